// @brief Vectorised scans of one full tile row (NR scores): max, mask of scores above a threshold, sum of exp.
//
// The reductions call these once per (query row, tile) while the tile is still in L1,
// so the per-score work after the dot products stays a few vector instructions.
// Rows cut short by a group boundary or the end of the keys use the scalar loops
// in reductions.hpp instead; they are rare and keeping the vector code full-width
// avoids masked-tail variants.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "simd_dispatch.hpp"

namespace exposure {

/// @brief Plain loops, for the scalar path and any row width.
template <int NR>
struct ScalarRows {
    static float max(const float* v) {
        float best = -std::numeric_limits<float>::infinity();
        for (int c = 0; c < NR; ++c) best = v[c] > best ? v[c] : best;
        return best;
    }
    static std::uint64_t above(const float* v, float threshold) {
        std::uint64_t mask = 0;
        for (int c = 0; c < NR; ++c) mask |= static_cast<std::uint64_t>(v[c] > threshold) << c;
        return mask;
    }
    static float exp_sum(const float* v, float shift, float inv_t) {
        float sum = 0.0f;
        for (int c = 0; c < NR; ++c) sum += std::exp((v[c] - shift) * inv_t);
        return sum;
    }
};

#ifdef EXPOSURE_X86

// Cephes expf: round x / ln2 to n, reduce r = x - n ln2 (split in two constants so r
// stays exact), a degree-6 polynomial for exp(r), then scale by 2^n. Relative error
// about 2 ulp. Inputs here are (s - running max) / T <= 0; the clamp at -87.3 keeps
// 2^n normal, and anything that small is < 1e-37 next to the running max's exp(0) = 1.
namespace expf_poly {
constexpr float lo = -87.3f;
constexpr float log2e = 1.44269504088896341f;
constexpr float ln2_hi = 0.693359375f;
constexpr float ln2_lo = -2.12194440e-4f;
constexpr float p0 = 1.9875691500e-4f;
constexpr float p1 = 1.3981999507e-3f;
constexpr float p2 = 8.3334519073e-3f;
constexpr float p3 = 4.1665795894e-2f;
constexpr float p4 = 1.6666665459e-1f;
constexpr float p5 = 5.0000001201e-1f;
}  // namespace expf_poly

/// @brief AVX2+FMA, 16 scores per row.
struct Avx2Rows {
    __attribute__((target("avx2,fma"))) static float max(const float* v) {
        __m256 m = _mm256_max_ps(_mm256_load_ps(v), _mm256_load_ps(v + 8));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        return _mm_cvtss_f32(h);
    }
    __attribute__((target("avx2,fma"))) static std::uint64_t above(const float* v, float threshold) {
        const __m256 t = _mm256_set1_ps(threshold);
        const unsigned lo = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(v), t, _CMP_GT_OQ));
        const unsigned hi = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(v + 8), t, _CMP_GT_OQ));
        return static_cast<std::uint64_t>(lo | (hi << 8));
    }
    __attribute__((target("avx2,fma"))) static __m256 exp8(__m256 x) {
        using namespace expf_poly;
        x = _mm256_max_ps(x, _mm256_set1_ps(lo));
        const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(log2e)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ln2_hi), x);
        r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ln2_lo), r);
        __m256 y = _mm256_set1_ps(p0);
        y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(p1));
        y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(p2));
        y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(p3));
        y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(p4));
        y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(p5));
        y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
        const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
    }
    __attribute__((target("avx2,fma"))) static float exp_sum(const float* v, float shift, float inv_t) {
        const __m256 s = _mm256_set1_ps(shift);
        const __m256 k = _mm256_set1_ps(inv_t);
        const __m256 e0 = exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_load_ps(v), s), k));
        const __m256 e1 = exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_load_ps(v + 8), s), k));
        const __m256 sum = _mm256_add_ps(e0, e1);
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
        return _mm_cvtss_f32(h);
    }
};

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_ps() as the unused merge source and
// then warn about it (GCC bug 105593, fixed in 13); the warning is about the header, not us.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

/// @brief AVX-512F, 32 scores per row.
struct Avx512Rows {
    __attribute__((target("avx512f,fma"))) static float max(const float* v) {
        return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_load_ps(v), _mm512_load_ps(v + 16)));
    }
    __attribute__((target("avx512f,fma"))) static std::uint64_t above(const float* v, float threshold) {
        const __m512 t = _mm512_set1_ps(threshold);
        const std::uint64_t lo = _mm512_cmp_ps_mask(_mm512_load_ps(v), t, _CMP_GT_OQ);
        const std::uint64_t hi = _mm512_cmp_ps_mask(_mm512_load_ps(v + 16), t, _CMP_GT_OQ);
        return lo | (hi << 16);
    }
    __attribute__((target("avx512f,fma"))) static __m512 exp16(__m512 x) {
        using namespace expf_poly;
        x = _mm512_max_ps(x, _mm512_set1_ps(lo));
        const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(log2e)),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ln2_hi), x);
        r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ln2_lo), r);
        __m512 y = _mm512_set1_ps(p0);
        y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(p1));
        y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(p2));
        y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(p3));
        y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(p4));
        y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(p5));
        y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
        return _mm512_scalef_ps(y, n);
    }
    __attribute__((target("avx512f,fma"))) static float exp_sum(const float* v, float shift, float inv_t) {
        const __m512 s = _mm512_set1_ps(shift);
        const __m512 k = _mm512_set1_ps(inv_t);
        const __m512 e0 = exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_load_ps(v), s), k));
        const __m512 e1 = exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_load_ps(v + 16), s), k));
        return _mm512_reduce_add_ps(_mm512_add_ps(e0, e1));
    }
};

#pragma GCC diagnostic pop

#endif

}  // namespace exposure
