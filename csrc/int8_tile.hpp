// @brief int8 dot-product micro-kernels (AVX-512 VNNI and portable) and the row quantisation they read.
//
// Quantisation: a row x (query or key) becomes codes c = round(x / s), s = max|x| / 127,
// so c is in [-127, 127], plus one float scale s per row; x . y ~ s_x s_y (c_x . c_y).
// vpdpbusd multiplies unsigned by signed bytes, so query codes are stored offset by +128
// (uint8 in [1, 255]) and the offset is taken back per key:
//     sum_t (c_q,t + 128) c_k,t = c_q . c_k + 128 sum_t c_k,t.
// Elements go in groups of four along d (d padded with zero codes to a multiple of 4).
// A key panel holds, for each group of four, NR keys x 4 bytes: one 32-bit lane per key,
// which is what vpdpbusd accumulates into. Integer sums are exact, and the scaling
// float(acc - offset) * s_k * s_q is done in the same order on every path, so the
// VNNI and portable kernels give bit-identical scores.
// Overflow: |acc| <= 255 * 127 * d, inside int32 for d up to 66,000 (checked by the caller).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "simd_dispatch.hpp"

namespace exposure {

/// @brief Largest d the int8 path accepts: keeps 255 * 127 * d below 2^31.
constexpr std::size_t int8_max_d = 66000;

/// @brief Codes of one row, offset by `bias` (0 for keys, 128 for queries), padded to `padded` elements;
/// element t goes to out[t / 4 * stride + t % 4] (stride 4: a plain row; NR * 4: a key's lane in a panel).
/// Returns the row's scale (0 for an all-zero row, whose codes are all `bias`).
template <class Code>
float quantize_row(const float* x, std::size_t d, std::size_t padded, int bias, Code* out, std::size_t stride = 4) {
    float top = 0.0f;
    for (std::size_t t = 0; t < d; ++t) top = std::max(top, std::fabs(x[t]));
    const float inv = top > 0.0f ? 127.0f / top : 0.0f;
    // Adding and subtracting 1.5 * 2^23 rounds to nearest, ties to even, for |v| < 2^22, in plain
    // float arithmetic (no libm call on the baseline ISA); fmin/fmax also send NaN to a bound
    // (the caller reports non-finite rows itself).
    constexpr float round_magic = 12582912.0f;
    for (std::size_t t = 0; t < padded; ++t) {
        const float v = t < d ? std::fmin(std::fmax(x[t] * inv, -127.0f), 127.0f) : 0.0f;
        out[t / 4 * stride + t % 4] = static_cast<Code>(static_cast<int>((v + round_magic) - round_magic) + bias);
    }
    return top / 127.0f;
}

/// @brief Portable int8 tile: plain integer loops, exact, any ISA.
struct ScalarInt8Tile {
    static constexpr int mr = 4;
    static constexpr int nr = 16;

    /// @brief A query row's codes (offset by 128) and scale.
    static float quantize_query(const float* x, std::size_t d, std::size_t padded, std::uint8_t* out) {
        return quantize_row(x, d, padded, 128, out);
    }

    static void tile(const std::uint8_t* const* rows, const float* row_scales, const std::int8_t* kp,
                     const float* key_scales, const std::int32_t* key_offsets, std::size_t groups4, float* out) {
        std::int32_t acc[mr][nr] = {};
        for (std::size_t p = 0; p < groups4; ++p) {
            const std::int8_t* b = kp + p * nr * 4;
            for (int r = 0; r < mr; ++r) {
                const std::uint8_t* a = rows[r] + p * 4;
                for (int c = 0; c < nr; ++c)
                    for (int e = 0; e < 4; ++e) acc[r][c] += static_cast<std::int32_t>(a[e]) * b[c * 4 + e];
            }
        }
        for (int r = 0; r < mr; ++r)
            for (int c = 0; c < nr; ++c)
                out[r * nr + c] = static_cast<float>(acc[r][c] - key_offsets[c]) * key_scales[c] * row_scales[r];
    }
};

#ifdef EXPOSURE_X86

/// @brief AVX-512 VNNI: 8 x 32 tile, 16 zmm int32 accumulators; one vpdpbusd does 64 multiply-adds.
struct Vnni512Tile {
    static constexpr int mr = 8;
    static constexpr int nr = 32;

    /// @brief quantize_row(x, d, padded, 128, out) in 16-wide vectors; vcvtps2dq rounds to nearest even
    /// like the scalar version, so the codes are identical.
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"))) static float quantize_query(const float* x, std::size_t d,
                                                                              std::size_t padded, std::uint8_t* out) {
        const __m512 sign = _mm512_set1_ps(-0.0f);
        __m512 top = _mm512_setzero_ps();
        for (std::size_t t = 0; t < d; t += 16) {
            const __mmask16 m = d - t >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (d - t)) - 1u);
            top = _mm512_max_ps(top, _mm512_andnot_ps(sign, _mm512_maskz_loadu_ps(m, x + t)));
        }
        const float top1 = _mm512_reduce_max_ps(top);
        const __m512 inv = _mm512_set1_ps(top1 > 0.0f ? 127.0f / top1 : 0.0f);
        const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
        const __m512i bias = _mm512_set1_epi32(128);
        for (std::size_t t = 0; t < padded; t += 16) {
            const std::size_t live = std::min<std::size_t>(16, d > t ? d - t : 0);
            const __mmask16 m = static_cast<__mmask16>((1u << live) - 1u);
            const __mmask16 store = static_cast<__mmask16>((1u << std::min<std::size_t>(16, padded - t)) - 1u);
            __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + t), inv);
            v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
            const __m512i codes = _mm512_add_epi32(_mm512_cvtps_epi32(v), bias);
            _mm_mask_storeu_epi8(out + t, store, _mm512_cvtepi32_epi8(codes));
        }
        return top1 / 127.0f;
    }

    __attribute__((target("avx512f,avx512bw,avx512vnni"))) static void tile(
        const std::uint8_t* const* rows, const float* row_scales, const std::int8_t* kp, const float* key_scales,
        const std::int32_t* key_offsets, std::size_t groups4, float* out) {
        __m512i acc[mr][2];
#pragma GCC unroll 16
        for (int r = 0; r < mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (std::size_t p = 0; p < groups4; ++p) {
            const __m512i b0 = _mm512_load_si512(kp + p * nr * 4);
            const __m512i b1 = _mm512_load_si512(kp + p * nr * 4 + 64);
#pragma GCC unroll 16
            for (int r = 0; r < mr; ++r) {
                std::int32_t four;
                std::memcpy(&four, rows[r] + p * 4, sizeof four);
                const __m512i a = _mm512_set1_epi32(four);
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, b0);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, b1);
            }
        }
        const __m512i off0 = _mm512_loadu_si512(key_offsets), off1 = _mm512_loadu_si512(key_offsets + 16);
        const __m512 ks0 = _mm512_loadu_ps(key_scales), ks1 = _mm512_loadu_ps(key_scales + 16);
#pragma GCC unroll 16
        for (int r = 0; r < mr; ++r) {
            const __m512 qs = _mm512_set1_ps(row_scales[r]);
            const __m512 f0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][0], off0));
            const __m512 f1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][1], off1));
            _mm512_store_ps(out + r * nr, _mm512_mul_ps(_mm512_mul_ps(f0, ks0), qs));
            _mm512_store_ps(out + r * nr + 16, _mm512_mul_ps(_mm512_mul_ps(f1, ks1), qs));
        }
    }
};

#endif

}  // namespace exposure
