import Foundation

/// A seeded, splittable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in the library flows from one of these: the same seed gives the same sequence on every
/// machine. `derived(stream:)` makes an independent generator for a sub-task (one image, one worker, one
/// epoch), so results do not depend on how work is split over threads. The state is four words and can be
/// saved and restored (`state`, `init(state:)`) for resumable training.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The four xoshiro256** state words.
    public private(set) var state: [UInt64]

    /// A generator whose whole sequence is determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        state = (0..<4).map { _ in SeededGenerator.splitMix(&sm) }
        if state.allSatisfy({ $0 == 0 }) { state[0] = 1 }
    }

    /// Restores a generator from saved state words.
    public init(state: [UInt64]) {
        precondition(state.count == 4 && !state.allSatisfy { $0 == 0 }, "invalid generator state \(state)")
        self.state = state
    }

    /// An independent generator for sub-task `stream`, a pure function of this generator's state and `stream`.
    public func derived(stream: UInt64) -> SeededGenerator {
        var h = state[0] ^ (state[1] &* 0x9E3779B97F4A7C15) ^ (state[2] << 17) ^ (state[3] >> 11)
        h ^= stream &* 0xD1B54A32D192ED03
        return SeededGenerator(seed: SeededGenerator.splitMix(&h))
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    /// A uniform float in `[0, 1)` with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform double in `[0, 1)` with 53 random bits.
    public mutating func nextUniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform float in `[low, high)`.
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextUniform() }

    /// A uniform double in `[low, high)`.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextUniformDouble() }

    /// A standard normal sample (Box-Muller on doubles; one sample per call, so sequences are easy to reason about).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUniformDouble(), 0x1p-60)
        let u2 = nextUniformDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A normal sample with the given mean and standard deviation.
    public mutating func normal(mean: Float = 0, std: Float = 1) -> Float { mean + std * Float(nextNormal()) }

    /// True with probability `p`.
    public mutating func bernoulli(_ p: Double) -> Bool { nextUniformDouble() < p }

    /// A uniformly random integer in `0..<n` without modulo bias.
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs a positive bound, got \(n)")
        return Int(next(upperBound: UInt64(n)))
    }

    /// A uniformly random permutation of `0..<n` (Fisher-Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) } }
        return p
    }

    /// `count` floats drawn from a normal distribution.
    public mutating func normals(_ count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        (0..<count).map { _ in normal(mean: mean, std: std) }
    }

    /// `count` floats drawn uniformly from `[low, high)`.
    public mutating func uniforms(_ count: Int, _ low: Float, _ high: Float) -> [Float] {
        (0..<count).map { _ in uniform(low, high) }
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E3779B97F4A7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
