// @brief On-the-fly reductions of similarity tiles: max, top-k and log-sum-exp per (query, group), and the plain matrix.
//
// Each reduction sees a query row's scores one tile segment at a time, keys in
// increasing order within a group, and keeps a running state; the n x m matrix never
// exists. Ties go to the lowest key index because a later key only wins with a
// strictly greater score. A row's state is touched only by the thread that owns the
// row, in the same key order whatever the thread count, so results are bit-identical
// across thread splits.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace exposure {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

/// @brief Columns [c0, c1) of a tile row that belong to one group.
struct Segment {
    std::size_t group;
    int c0;
    int c1;
};

/// @brief Largest score of a segment: the vector scan for a full tile row, a plain loop for a cut one.
template <class Rows, int NR>
float segment_max(const Segment& s, const float* v) {
    if (s.c0 == 0 && s.c1 == NR) return Rows::max(v);
    float top = neg_inf;
    for (int c = s.c0; c < s.c1; ++c) top = v[c] > top ? v[c] : top;
    return top;
}

/// @brief Per (query, group): best score and the global index of the first key that reaches it.
template <class Rows, int NR>
struct MaxReduction {
    float* values;           // (n, groups)
    std::int64_t* indices;   // (n, groups)
    std::size_t groups;

    void begin(std::size_t row, std::size_t) const {
        for (std::size_t g = 0; g < groups; ++g) {
            values[row * groups + g] = neg_inf;
            indices[row * groups + g] = -1;
        }
    }

    void add(std::size_t row, std::size_t, const Segment& s, const float* v, const std::int64_t* ids) const {
        float& best = values[row * groups + s.group];
        const float top = segment_max<Rows, NR>(s, v);
        if (!(top > best)) return;
        int c = s.c0;
        while (v[c] != top) ++c;
        best = top;
        indices[row * groups + s.group] = ids[c];
    }

    void finish(std::size_t, std::size_t) const {}
};

/// @brief Per (query, group): the k best scores, sorted descending, lower key index first on ties.
//
// A sorted array with insertion beats a heap for the small k this is meant for: a
// candidate is first tested against the current k-th score, with a vector compare
// over the whole tile row, and nearly all are rejected there.
template <class Rows, int NR>
struct TopkReduction {
    float* values;           // (n, groups, k)
    std::int64_t* indices;   // (n, groups, k)
    std::size_t groups;
    std::size_t k;

    void begin(std::size_t row, std::size_t) const {
        const std::size_t count = groups * k;
        for (std::size_t i = 0; i < count; ++i) {
            values[row * count + i] = neg_inf;
            indices[row * count + i] = -1;
        }
    }

    void add(std::size_t row, std::size_t, const Segment& s, const float* v, const std::int64_t* ids) const {
        float* vals = values + (row * groups + s.group) * k;
        std::int64_t* idx = indices + (row * groups + s.group) * k;
        // 1. candidates: scores strictly above the current k-th best
        std::uint64_t mask;
        if (s.c0 == 0 && s.c1 == NR) {
            mask = Rows::above(v, vals[k - 1]);
        } else {
            mask = 0;
            for (int c = s.c0; c < s.c1; ++c) mask |= static_cast<std::uint64_t>(v[c] > vals[k - 1]) << c;
        }
        // 2. insert each in key order; the threshold rises as we go, so re-check it
        while (mask != 0) {
            const int c = __builtin_ctzll(mask);
            mask &= mask - 1;
            const float x = v[c];
            if (!(x > vals[k - 1])) continue;
            std::size_t pos = k - 1;
            // equal scores stay ahead: they came from lower key indices
            while (pos > 0 && vals[pos - 1] < x) {
                vals[pos] = vals[pos - 1];
                idx[pos] = idx[pos - 1];
                --pos;
            }
            vals[pos] = x;
            idx[pos] = ids[c];
        }
    }

    void finish(std::size_t, std::size_t) const {}
};

/// @brief Per (query, group): T * log(sum_j exp(s_j / T)), online with a running max.
//
// The running max M lives in the output until finish(); the scaled sum
// S = sum exp((s_j - M) / T) lives in a per-thread double scratch row, so summing
// thousands of terms does not lose float precision. Result: M + T * log(S).
template <class Rows, int NR>
struct LogsumexpReduction {
    float* values;    // (n, groups)
    double* scratch;  // (block rows, groups), owned by the calling thread
    std::size_t groups;
    float temperature;
    float inv_t;

    void begin(std::size_t row, std::size_t local) const {
        for (std::size_t g = 0; g < groups; ++g) {
            values[row * groups + g] = neg_inf;
            scratch[local * groups + g] = 0.0;
        }
    }

    void add(std::size_t row, std::size_t local, const Segment& s, const float* v, const std::int64_t*) const {
        float& running_max = values[row * groups + s.group];
        double& sum = scratch[local * groups + s.group];
        const bool full = s.c0 == 0 && s.c1 == NR;
        // 1. rescale the sum when this segment raises the max
        const float top = segment_max<Rows, NR>(s, v);
        if (top > running_max) {
            sum = running_max == neg_inf ? 0.0 : sum * std::exp(static_cast<double>(running_max - top) * inv_t);
            running_max = top;
        }
        // 2. add this segment's terms relative to the (new) max
        if (full) {
            sum += Rows::exp_sum(v, running_max, inv_t);
        } else {
            for (int c = s.c0; c < s.c1; ++c) sum += std::exp((v[c] - running_max) * inv_t);
        }
    }

    void finish(std::size_t row, std::size_t local) const {
        for (std::size_t g = 0; g < groups; ++g) {
            float& out = values[row * groups + g];
            if (out != neg_inf)
                out = static_cast<float>(out + temperature * std::log(scratch[local * groups + g]));
        }
    }
};

/// @brief No reduction: copies the tile into the (n, m) output. Keys are in original order here.
template <class Rows, int NR>
struct MatrixReduction {
    float* values;  // (n, m)
    std::size_t m;

    void begin(std::size_t, std::size_t) const {}

    void add(std::size_t row, std::size_t, const Segment& s, const float* v, const std::int64_t* ids) const {
        std::memcpy(values + row * m + ids[s.c0], v + s.c0, sizeof(float) * static_cast<std::size_t>(s.c1 - s.c0));
    }

    void finish(std::size_t, std::size_t) const {}
};

}  // namespace exposure
