// @brief Top-k from approximate scores, re-ranked by exact float32 dot products of the original rows.
//
// The int8 path finds, per (query, group), the `candidates` best keys by its quantised
// scores with the ordinary TopkReduction (into per-thread block buffers), then
// finish() recomputes those candidates' scores from the float32 inputs and keeps the
// k best: descending, lower key index first on ties, like every other path. A key
// is missed only when quantisation error pushes it out of the candidate list, so the
// values returned are exact float32 dot products (not bit-identical to the fp32 tile,
// whose summation order differs) and recall is measured against fp32 in the tests
// and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "simd_dispatch.hpp"

#include "reductions.hpp"

namespace exposure {

/// @brief Dot product with 16 independent partial sums (vectorisable without reassociation flags).
struct ScalarDot {
    static float dot(const float* a, const float* b, std::size_t d) {
        float part[16] = {};
        std::size_t t = 0;
        for (; t + 16 <= d; t += 16)
            for (int l = 0; l < 16; ++l) part[l] += a[t + l] * b[t + l];
        float sum = 0.0f;
        for (; t < d; ++t) sum += a[t] * b[t];
        for (int l = 0; l < 16; ++l) sum += part[l];
        return sum;
    }
};

#ifdef EXPOSURE_X86
struct Avx512Dot {
    __attribute__((target("avx512f,fma"))) static float dot(const float* a, const float* b, std::size_t d) {
        __m512 part[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        std::size_t t = 0;
        for (; t + 64 <= d; t += 64)
            for (int l = 0; l < 4; ++l)
                part[l] = _mm512_fmadd_ps(_mm512_loadu_ps(a + t + 16 * l), _mm512_loadu_ps(b + t + 16 * l), part[l]);
        for (; t < d; t += 16) {
            const __mmask16 m = d - t >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (d - t)) - 1u);
            part[0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + t), _mm512_maskz_loadu_ps(m, b + t), part[0]);
        }
        return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(part[0], part[1]), _mm512_add_ps(part[2], part[3])));
    }
};
#endif

template <class Rows, int NR, class Dot>
struct RescoredTopk {
    TopkReduction<Rows, NR> approx;  // (block rows, groups, candidates), indexed by the block-local row
    const float* queries;            // (n, d) float32, the original rows
    const float* keys;               // (m, d)
    std::size_t d;
    float* values;                   // (n, groups, k)
    std::int64_t* indices;           // (n, groups, k)
    std::size_t k;

    void begin(std::size_t, std::size_t local) const { approx.begin(local, local); }

    void add(std::size_t, std::size_t local, const Segment& s, const float* v, const std::int64_t* ids) const {
        approx.add(local, local, s, v, ids);
    }

    void finish(std::size_t row, std::size_t local) const {
        const std::size_t groups = approx.groups, kc = approx.k;
        const float* q = queries + row * d;
        for (std::size_t g = 0; g < groups; ++g) {
            float* vals = values + (row * groups + g) * k;
            std::int64_t* idx = indices + (row * groups + g) * k;
            for (std::size_t i = 0; i < k; ++i) {
                vals[i] = neg_inf;
                idx[i] = -1;
            }
            const std::int64_t* cand = approx.indices + (local * groups + g) * kc;
            for (std::size_t c = 0; c < kc && cand[c] >= 0; ++c) {
                const std::int64_t j = cand[c];
                const float x = Dot::dot(q, keys + static_cast<std::size_t>(j) * d, d);
                // candidates arrive in approximate order, so ties compare indices explicitly
                if (!(x > vals[k - 1] || (x == vals[k - 1] && j < idx[k - 1]))) continue;
                std::size_t pos = k - 1;
                while (pos > 0 && (vals[pos - 1] < x || (vals[pos - 1] == x && idx[pos - 1] > j))) {
                    vals[pos] = vals[pos - 1];
                    idx[pos] = idx[pos - 1];
                    --pos;
                }
                vals[pos] = x;
                idx[pos] = j;
            }
        }
    }
};

}  // namespace exposure
