#ifndef DEEPLENSE_CKERNELS_H
#define DEEPLENSE_CKERNELS_H

/// Register transposes of 16 x 16 float blocks with AVX-512 instructions (callers check the CPU first).
///
/// `destination[j * ldd + i] = source[i * lds + j]` over `rows x columns` (both multiples of 16).
void deeplense_transpose_blocks_avx512(const float *source, long lds, float *destination, long ldd,
                                       long rows, long columns);

/// One 16 x 16 block, storing only the first `storedRows` of its 16 output rows.
void deeplense_transpose_block_avx512(const float *source, long lds, float *destination, long ldd, long storedRows);

#endif
