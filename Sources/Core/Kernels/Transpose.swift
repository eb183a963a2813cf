import CKernels

/// Out-of-place float matrix transposes for layout changes (channels-first <-> channels-last, weight panels).
///
/// Full 16 x 16 blocks are transposed in registers by four rounds of pairwise interleaves (round `s` pairs the
/// rows whose index differs in bit `3 - s`: the low halves interleave into the row with that bit clear, the high
/// halves into the row with it set; after four rounds row and column bits have swapped). Compiled for AVX-512 each
/// interleave is one two-source permute, so a block costs 64 permutes, 16 loads and 16 stores instead of 256
/// scalar loads and stores. On AVX-512 CPUs the blocks go to `CKernels` instead, whose four rounds (two within
/// 128-bit lanes, two of whole lanes) are single cheap shuffles: measured 2.1x faster per block than the permutes
/// Swift's generic shuffles compile to.
enum Transpose {
    typealias Vector = SIMD16<Float>

    /// Whether blocks go to the AVX-512 intrinsics (`CKernels`), checked once.
    static let usesAVX512Blocks = CPUFeatures.host.hasAVX512

    /// `destination[j * ldd + i] = source[i * lds + j]` for `i < rows`, `j < columns`.
    ///
    /// A band of 16 rows whose last columns do not fill a block still goes through registers when reading 16
    /// columns stays inside the matrix (only the valid output rows are stored); other edges go element by element.
    /// `avx512` picks the block kernel (tests run both).
    static func matrix(_ source: UnsafePointer<Float>, lds: Int, _ destination: UnsafeMutablePointer<Float>, ldd: Int,
                       rows: Int, columns: Int, avx512: Bool = usesAVX512Blocks) {
        let fullRows = rows / 16 * 16, fullColumns = columns / 16 * 16, extent = (rows - 1) * lds + columns
        var i = 0
        while i < fullRows {
            if avx512 {
                deeplense_transpose_blocks_avx512(source + i * lds, lds, destination + i, ldd, 16, fullColumns)
            } else {
                var j = 0
                while j < fullColumns {
                    block16(source + i * lds + j, lds, destination + j * ldd + i, ldd)
                    j += 16
                }
            }
            if fullColumns < columns {
                if (i + 15) * lds + fullColumns + 16 <= extent {
                    let stored = columns - fullColumns
                    if avx512 {
                        deeplense_transpose_block_avx512(source + i * lds + fullColumns, lds,
                                                         destination + fullColumns * ldd + i, ldd, stored)
                    } else {
                        block16(source + i * lds + fullColumns, lds, destination + fullColumns * ldd + i, ldd,
                                storedRows: stored)
                    }
                } else {
                    for r in i..<(i + 16) {
                        for c in fullColumns..<columns { destination[c * ldd + r] = source[r * lds + c] }
                    }
                }
            }
            i += 16
        }
        for r in fullRows..<rows {
            for c in 0..<columns { destination[c * ldd + r] = source[r * lds + c] }
        }
    }

    @inline(__always)
    static func low(_ a: Vector, _ b: Vector) -> Vector {
        Vector(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
    }

    @inline(__always)
    static func high(_ a: Vector, _ b: Vector) -> Vector {
        Vector(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
    }

    /// `(a, b) <- (low(a, b), high(a, b))`.
    @inline(__always)
    static func interleave(_ a: inout Vector, _ b: inout Vector) {
        let l = low(a, b)
        b = high(a, b)
        a = l
    }

    /// One 16 x 16 block: `destination[j * ldd + i] = source[i * lds + j]`. Rows live in 16 named registers (a
    /// buffer would put every round through memory).
    /// `storedRows < 16` stores only the first output rows.
    @inline(__always)
    static func block16(_ source: UnsafePointer<Float>, _ lds: Int, _ destination: UnsafeMutablePointer<Float>, _ ldd: Int,
                        storedRows: Int = 16) {
        @inline(__always) func row(_ r: Int) -> Vector { UnsafeRawPointer(source + r * lds).loadUnaligned(as: Vector.self) }
        @inline(__always) func store(_ v: Vector, _ r: Int) {
            if r < storedRows { UnsafeMutableRawPointer(destination + r * ldd).storeBytes(of: v, as: Vector.self) }
        }
        var r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
        var r4 = row(4), r5 = row(5), r6 = row(6), r7 = row(7)
        var r8 = row(8), r9 = row(9), r10 = row(10), r11 = row(11)
        var r12 = row(12), r13 = row(13), r14 = row(14), r15 = row(15)
        interleave(&r0, &r8); interleave(&r1, &r9); interleave(&r2, &r10); interleave(&r3, &r11)
        interleave(&r4, &r12); interleave(&r5, &r13); interleave(&r6, &r14); interleave(&r7, &r15)
        interleave(&r0, &r4); interleave(&r1, &r5); interleave(&r2, &r6); interleave(&r3, &r7)
        interleave(&r8, &r12); interleave(&r9, &r13); interleave(&r10, &r14); interleave(&r11, &r15)
        interleave(&r0, &r2); interleave(&r1, &r3); interleave(&r4, &r6); interleave(&r5, &r7)
        interleave(&r8, &r10); interleave(&r9, &r11); interleave(&r12, &r14); interleave(&r13, &r15)
        interleave(&r0, &r1); interleave(&r2, &r3); interleave(&r4, &r5); interleave(&r6, &r7)
        interleave(&r8, &r9); interleave(&r10, &r11); interleave(&r12, &r13); interleave(&r14, &r15)
        store(r0, 0); store(r1, 1); store(r2, 2); store(r3, 3)
        store(r4, 4); store(r5, 5); store(r6, 6); store(r7, 7)
        store(r8, 8); store(r9, 9); store(r10, 10); store(r11, 11)
        store(r12, 12); store(r13, 13); store(r14, 14); store(r15, 15)
    }
}
