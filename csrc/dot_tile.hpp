// @brief Register-blocked dot-product micro-kernels: an MR x NR tile of query·key products per call.
//
// Layout: keys are packed NR at a time, transposed (kp[p * NR + c] = key c, element p);
// queries are read in place through MR row pointers (packing them measured no faster:
// MR sequential streams prefetch well). The d loop is an outer product: per p, NR/W
// vector loads of keys, MR broadcasts of query elements, MR * NR/W FMAs, all
// accumulators in registers. Vectorising over keys instead of over d means there is
// no d tail: any d works. The m tail is a zero-padded key panel and the n tail repeats
// a real row, so every key goes through the same instruction sequence; that keeps
// duplicate keys bit-identical, which the tie-breaking rules depend on.
#pragma once

#include <cstddef>

#include "simd_dispatch.hpp"

namespace exposure {

/// @brief Portable fallback: plain loops the compiler may vectorise for the baseline ISA.
struct ScalarTile {
    static constexpr int mr = 4;
    static constexpr int nr = 8;

    static void tile(const float* const* rows, const float* kp, std::size_t d, float* out) {
        float acc[mr][nr] = {};
        for (std::size_t p = 0; p < d; ++p) {
            const float* b = kp + p * nr;
            for (int r = 0; r < mr; ++r)
                for (int c = 0; c < nr; ++c) acc[r][c] += rows[r][p] * b[c];
        }
        for (int r = 0; r < mr; ++r)
            for (int c = 0; c < nr; ++c) out[r * nr + c] = acc[r][c];
    }
};

#ifdef EXPOSURE_X86

/// @brief AVX2+FMA: 6 x 16 tile, 12 ymm accumulators + 2 key vectors + 1 broadcast of 16 registers.
struct Avx2Tile {
    static constexpr int mr = 6;
    static constexpr int nr = 16;

    __attribute__((target("avx2,fma"))) static void tile(const float* const* rows, const float* kp, std::size_t d,
                                                          float* out) {
        const float* q[mr];
        for (int r = 0; r < mr; ++r) q[r] = rows[r];
        __m256 acc[mr][2];
#pragma GCC unroll 8
        for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
#pragma GCC unroll 2
        for (std::size_t p = 0; p < d; ++p) {
            const __m256 b0 = _mm256_load_ps(kp + p * nr);
            const __m256 b1 = _mm256_load_ps(kp + p * nr + 8);
#pragma GCC unroll 8
            for (int r = 0; r < mr; ++r) {
                const __m256 a = _mm256_broadcast_ss(q[r] + p);
                acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
            }
        }
#pragma GCC unroll 8
        for (int r = 0; r < mr; ++r) {
            _mm256_store_ps(out + r * nr, acc[r][0]);
            _mm256_store_ps(out + r * nr + 8, acc[r][1]);
        }
    }
};

/// @brief AVX-512: 8 x 32 tile, 16 zmm accumulators; 32 registers leave room for loads in flight.
struct Avx512Tile {
    static constexpr int mr = 8;
    static constexpr int nr = 32;

    __attribute__((target("avx512f,fma"))) static void tile(const float* const* rows, const float* kp, std::size_t d,
                                                             float* out) {
        const float* q[mr];
        for (int r = 0; r < mr; ++r) q[r] = rows[r];
        __m512 acc[mr][2];
#pragma GCC unroll 16
        for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
        for (std::size_t p = 0; p < d; ++p) {
            const __m512 b0 = _mm512_load_ps(kp + p * nr);
            const __m512 b1 = _mm512_load_ps(kp + p * nr + 16);
#pragma GCC unroll 16
            for (int r = 0; r < mr; ++r) {
                const __m512 a = _mm512_set1_ps(q[r][p]);
                acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
            }
        }
#pragma GCC unroll 16
        for (int r = 0; r < mr; ++r) {
            _mm512_store_ps(out + r * nr, acc[r][0]);
            _mm512_store_ps(out + r * nr + 16, acc[r][1]);
        }
    }
};

#endif  // EXPOSURE_X86

}  // namespace exposure
