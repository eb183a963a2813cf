// 16 x 16 float transposes in AVX-512 registers: the classic four rounds, two within 128-bit lanes (unpack of float
// pairs, then of 64-bit halves: each round transposes 2 x 2 blocks of the previous round's elements) and two across
// lanes (128-bit lane shuffles). Written with intrinsics because Swift's generic SIMD shuffles compile to two-source
// table permutes (vpermt2ps) with an index vector per shuffle, about twice the cost on Zen 4.
// Compiled for AVX-512 per function, so the library still runs on CPUs without it as long as callers check first.
#include "CKernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

AVX512 static inline __m512 quadsLow(__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}

AVX512 static inline __m512 quadsHigh(__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}

AVX512 static inline void block16(const float *source, long lds, float *destination, long ldd, long storedRows) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(source + i * lds);
    // t[2k], t[2k + 1]: rows 2k and 2k + 1 interleaved, columns {0, 1} + 4q and {2, 3} + 4q of each lane q
    for (int k = 0; k < 16; k += 2) {
        t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
    }
    // r[4g + m]: column m + 4q of rows 4g ..< 4g + 4 in lane q
    for (int k = 0; k < 16; k += 4) {
        r[k] = quadsLow(t[k], t[k + 2]);
        r[k + 1] = quadsHigh(t[k], t[k + 2]);
        r[k + 2] = quadsLow(t[k + 1], t[k + 3]);
        r[k + 3] = quadsHigh(t[k + 1], t[k + 3]);
    }
    // t[8h + m] (m < 4): columns m and m + 8 of rows 8h ..< 8h + 8; t[8h + 4 + m]: columns m + 4 and m + 12
    for (int h = 0; h < 16; h += 8) {
        for (int m = 0; m < 4; m++) {
            t[h + m] = _mm512_shuffle_f32x4(r[h + m], r[h + 4 + m], 0x88);
            t[h + 4 + m] = _mm512_shuffle_f32x4(r[h + m], r[h + 4 + m], 0xdd);
        }
    }
    // column m: lanes 0 and 2 of t[m] and t[8 + m]; column m + 8: their lanes 1 and 3
    for (int m = 0; m < 8; m++) {
        r[m] = _mm512_shuffle_f32x4(t[m], t[8 + m], 0x88);
        r[m + 8] = _mm512_shuffle_f32x4(t[m], t[8 + m], 0xdd);
    }
    for (int i = 0; i < storedRows; i++) _mm512_storeu_ps(destination + i * ldd, r[i]);
}

AVX512 void deeplense_transpose_blocks_avx512(const float *source, long lds, float *destination, long ldd,
                                              long rows, long columns) {
    for (long i = 0; i < rows; i += 16) {
        for (long j = 0; j < columns; j += 16) block16(source + i * lds + j, lds, destination + j * ldd + i, ldd, 16);
    }
}

AVX512 void deeplense_transpose_block_avx512(const float *source, long lds, float *destination, long ldd,
                                             long storedRows) {
    block16(source, lds, destination, ldd, storedRows);
}

#else
// Not x86-64: callers never get here (`Transpose.usesAVX512Blocks` is false); keep the symbols defined.
#include <stdlib.h>

void deeplense_transpose_blocks_avx512(const float *source, long lds, float *destination, long ldd, long rows,
                                       long columns) {
    abort();
}

void deeplense_transpose_block_avx512(const float *source, long lds, float *destination, long ldd, long storedRows) {
    abort();
}
#endif
