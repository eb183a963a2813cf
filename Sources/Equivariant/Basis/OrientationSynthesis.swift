import Core
import Foundation

/// The half-spectrum synthesis matrices that turn basis coefficients into all rotated (and reflected) copies
/// of a filter with one inverse real DFT over the harmonic index.
///
/// For a free filter `psi_0 = sum_k c_k b_k`, its copy for the group element `(r, s)` is
/// `psi_(r,s)(x) = psi_0(F^s R_r^-1 x) = Re sum_m e^(-2 pi i m r / N) Z_m^(s)(x)` where `Z_m^(s)` is linear in `c`.
/// Folding `m` modulo `N` into `q` and forming the Hermitian half spectrum `H_q = (Z_(-q) + conj(Z_q)) / 2`,
/// `q = 0 ... N/2`, gives `psi_(r,s) = sum_(q=0)^(N-1) H_q e^(+2 pi i q r / N)`: exactly FFTW's unnormalised
/// complex-to-real transform of length `N`. `matrix[s]` maps the `K` coefficients to `H` laid out
/// `[N/2 + 1][taps][re, im]`, so a GEMM followed by one batched c2r plan produces every orientation (`FilterExpansion`
/// evaluates the same sum as a complex transform over pairs of taps, with `H_(N-q) = conj H_q`).
/// Harmonics with `m >= N` alias onto `m mod N`, which is exact: only angles `2 pi r / N` are ever evaluated.
final class OrientationSynthesis: @unchecked Sendable {
    let basis: SteerableBasis
    /// Rotations `N` synthesised (1 for invariant blocks).
    let rotations: Int
    /// Reflection copies `S` (2 for dihedral groups, else 1).
    let reflections: Int
    /// Indices into `basis.functions` used by this block.
    let functionIndices: [Int]
    /// `S` matrices, each `[K][(N/2 + 1) * taps * 2]` row-major.
    let matrices: [[Float]]

    var coefficientCount: Int { functionIndices.count }
    var halfSpectrum: Int { rotations / 2 + 1 }
    var rowWidth: Int { halfSpectrum * basis.tapCount * 2 }

    init(basis: SteerableBasis, rotations: Int, reflections: Int, functionIndices: [Int]) {
        self.basis = basis
        self.rotations = rotations
        self.reflections = reflections
        self.functionIndices = functionIndices
        let taps = basis.tapCount, half = rotations / 2 + 1
        var matrices: [[Float]] = []
        for s in 0..<reflections {
            var m = [Float](repeating: 0, count: functionIndices.count * half * taps * 2)
            for (row, k) in functionIndices.enumerated() {
                let f = basis.functions[k], b = basis.harmonicSamples[k]
                let q0 = f.frequency % rotations, mirror = (rotations - q0) % rotations
                let sign: Float = s == 1 ? -1 : 1
                for t in 0..<taps {
                    let (zr, zi): (Float, Float) = f.isSine ? (sign * b[2 * t + 1], -sign * b[2 * t]) : (b[2 * t], b[2 * t + 1])
                    for q in 0..<half {
                        var hr: Float = 0, hi: Float = 0
                        if q == q0 { hr += zr / 2; hi -= zi / 2 }
                        if q == mirror { hr += zr / 2; hi += zi / 2 }
                        let o = ((row * half + q) * taps + t) * 2
                        m[o] = hr
                        m[o + 1] = hi
                    }
                }
            }
            matrices.append(m)
        }
        self.matrices = matrices
    }

    /// `energies[k]`: the summed squared norm of all `S * N` copies of basis function `k` (by Parseval on the
    /// c2r sum: `N sum_q w_q |H_q|^2`, `w_q` the adjoint weight).
    var energies: [Double] {
        let taps = basis.tapCount, half = halfSpectrum
        return (0..<coefficientCount).map { row in
            var total = 0.0
            for m in matrices {
                for q in 0..<half {
                    for t in 0..<taps {
                        let o = ((row * half + q) * taps + t) * 2
                        total += Double(adjointWeight(q)) * (Double(m[o]) * Double(m[o]) + Double(m[o + 1]) * Double(m[o + 1]))
                    }
                }
            }
            return total * Double(rotations)
        }
    }

    /// Weight of `q` in the adjoint of the c2r sum (`1` for the zero and Nyquist bins, `2` otherwise).
    func adjointWeight(_ q: Int) -> Float { (q == 0 || 2 * q == rotations) ? 1 : 2 }
}
