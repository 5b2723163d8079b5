// @brief Keys packed once per call into NR-wide panels (float32 or int8), and the query rows each tile reads.
//
// Both precisions share one KeyLayout: keys stably sorted by group, so a group is a
// contiguous run of packed keys and each panel knows its group segments. A "panels"
// type is what the driver (similarity.hpp) needs from a precision:
//   mr, nr             micro-tile shape
//   layout             the KeyLayout
//   Local local(rows)  per-thread buffers, allocated before the parallel region
//   load(w, i0, rows)  prepares a query block (int8: quantises it; float32: nothing)
//   tile(w, i0, local_rows, p, out)  MR x NR float scores of those rows against panel p
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "int8_tile.hpp"
#include "reductions.hpp"

namespace exposure {

/// @brief Inputs: row-major float32 queries (n, d) and keys (m, d); optional group id per key.
struct Problem {
    const float* queries = nullptr;
    std::size_t n = 0;
    const float* keys = nullptr;
    std::size_t m = 0;
    std::size_t d = 0;
    const std::int64_t* groups = nullptr;  // m ids in [0, num_groups), or nullptr for a single group
    std::size_t num_groups = 1;
};

namespace detail {

struct AlignedFree {
    void operator()(void* p) const { std::free(p); }
};
template <class T>
using AlignedArray = std::unique_ptr<T[], AlignedFree>;

/// @brief 64-byte aligned so the micro-kernels can use aligned loads on every panel.
template <class T>
AlignedArray<T> aligned_array(std::size_t count) {
    std::size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
    if (bytes == 0) bytes = 64;
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) throw std::bad_alloc();
    return AlignedArray<T>(static_cast<T*>(p));
}

/// @brief True when every element is finite (exponent bits not all ones); integer ops so it vectorises.
inline bool row_is_finite(const float* row, std::size_t d) {
    std::uint32_t non_finite = 0;
    for (std::size_t t = 0; t < d; ++t) {
        std::uint32_t bits;
        std::memcpy(&bits, row + t, sizeof bits);
        non_finite |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    return non_finite == 0;
}

/// @brief Packed order of the keys (grouped, index order within a group) and each panel's group segments.
struct KeyLayout {
    std::vector<std::int64_t> order;         // packed position -> original key index
    std::vector<std::size_t> first_segment;  // panel p's segments: [first_segment[p], first_segment[p + 1])
    std::vector<Segment> segments;
    std::size_t count = 0;                   // panels
};

/// @brief Bytes key_layout allocates at most: the packed order, the group counts, a segment per panel and group.
inline std::size_t key_layout_bytes(const Problem& P, std::size_t nr) {
    const std::size_t count = (P.m + nr - 1) / nr;
    const std::size_t segments = std::min(P.m, count + P.num_groups);
    return P.m * sizeof(std::int64_t) + 2 * (P.num_groups + 1) * sizeof(std::size_t) +
           (count + 1) * sizeof(std::size_t) + segments * sizeof(Segment);
}

inline KeyLayout key_layout(const Problem& P, std::size_t nr) {
    KeyLayout L;
    L.count = (P.m + nr - 1) / nr;
    // 1. stable counting sort by group: within a group, keys stay in index order (tie rule)
    L.order.resize(P.m);
    if (P.groups == nullptr) {
        for (std::size_t j = 0; j < P.m; ++j) L.order[j] = static_cast<std::int64_t>(j);
    } else {
        std::vector<std::size_t> start(P.num_groups + 1, 0);
        for (std::size_t j = 0; j < P.m; ++j) ++start[static_cast<std::size_t>(P.groups[j]) + 1];
        for (std::size_t g = 0; g < P.num_groups; ++g) start[g + 1] += start[g];
        std::vector<std::size_t> next(start.begin(), start.end() - 1);
        for (std::size_t j = 0; j < P.m; ++j)
            L.order[next[static_cast<std::size_t>(P.groups[j])]++] = static_cast<std::int64_t>(j);
    }
    // 2. per panel, the runs of columns that share a group (walking the keys, not the groups:
    //    O(m) however many groups are empty)
    const auto group_of = [&](std::size_t j) {
        return P.groups == nullptr ? std::size_t{0} : static_cast<std::size_t>(P.groups[L.order[j]]);
    };
    L.first_segment.assign(1, 0);
    for (std::size_t p = 0; p < L.count; ++p) {
        const std::size_t lo = p * nr, hi = std::min(P.m, lo + nr);
        for (std::size_t a = lo; a < hi;) {
            const std::size_t g = group_of(a);
            std::size_t b = a + 1;
            while (b < hi && group_of(b) == g) ++b;
            L.segments.push_back({g, static_cast<int>(a - lo), static_cast<int>(b - lo)});
            a = b;
        }
        L.first_segment.push_back(L.segments.size());
    }
    return L;
}

/// @brief Calls fill(panel, column, key row or nullptr for padding) for every slot, in parallel over panels;
/// throws naming the first key row with NaN or inf.
template <class Fill>
void pack_panels(const Problem& P, const KeyLayout& L, std::size_t nr, int threads, Fill fill) {
    std::size_t bad = P.m;
    const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(L.count);
#pragma omp parallel for num_threads(threads) schedule(static) reduction(min : bad)
    for (std::ptrdiff_t p = 0; p < count; ++p) {
        for (std::size_t c = 0; c < nr; ++c) {
            const std::size_t j = static_cast<std::size_t>(p) * nr + c;
            if (j >= P.m) {
                fill(static_cast<std::size_t>(p), c, nullptr);
                continue;
            }
            const std::size_t key = static_cast<std::size_t>(L.order[j]);
            const float* src = P.keys + key * P.d;
            fill(static_cast<std::size_t>(p), c, src);
            if (!row_is_finite(src, P.d)) bad = std::min(bad, key);
        }
    }
    if (bad < P.m) throw std::invalid_argument("keys row " + std::to_string(bad) + " contains NaN or inf");
}

/// @brief float32 keys in transposed panels (element t of key c at t * NR + c); queries read in place.
template <class Tile>
struct F32Panels {
    static constexpr int mr = Tile::mr;
    static constexpr int nr = Tile::nr;
    static constexpr bool approximate = false;  // exact scores: every op reduces them directly
    struct Local {};

    const Problem& P;
    KeyLayout layout;
    AlignedArray<float> panels;

    /// Floats in the packed panels of P's keys.
    static std::size_t packed_size(const Problem& P) { return (P.m + nr - 1) / nr * nr * P.d; }
    /// Bytes allocated: the packed panels and the key layout (per call), the Local of a block (per thread).
    static std::size_t packed_bytes(const Problem& P) {
        return packed_size(P) * sizeof(float) + key_layout_bytes(P, nr);
    }
    static std::size_t local_bytes(const Problem&, std::size_t) { return 0; }

    F32Panels(const Problem& problem, int threads) : P(problem), layout(key_layout(problem, nr)) {
        const std::size_t d = P.d;
        panels = aligned_array<float>(packed_size(P));
        float* base = panels.get();
        pack_panels(P, layout, nr, threads, [&](std::size_t p, std::size_t c, const float* src) {
            float* dst = base + p * d * nr + c;
            for (std::size_t t = 0; t < d; ++t) dst[t * nr] = src != nullptr ? src[t] : 0.0f;
        });
    }

    Local local(std::size_t) const { return {}; }
    void load(Local&, std::size_t, std::size_t) const {}

    void tile(const Local&, std::size_t i0, const std::size_t* rows, std::size_t p, float* out) const {
        const float* q[mr];
        for (int r = 0; r < mr; ++r) q[r] = P.queries + (i0 + rows[r]) * P.d;
        Tile::tile(q, panels.get() + p * P.d * nr, P.d, out);
    }
};

/// @brief int8 keys (see int8_tile.hpp) with a scale and an offset per key; queries quantised per block.
template <class Tile>
struct Int8Panels {
    static constexpr int mr = Tile::mr;
    static constexpr int nr = Tile::nr;
    static constexpr bool approximate = true;  // int8 scores: max / top-k re-rank candidates (rescore.hpp)
    struct Local {
        AlignedArray<std::uint8_t> codes;  // (block rows, padded d), offset by 128
        AlignedArray<float> scales;        // (block rows,)
    };

    const Problem& P;
    std::size_t padded;  // d rounded up to a multiple of 4
    KeyLayout layout;
    AlignedArray<std::int8_t> panels;    // panel p at p * padded * nr: group g of key c at (g * nr + c) * 4
    AlignedArray<float> scales;          // (panels * nr,)
    AlignedArray<std::int32_t> offsets;  // (panels * nr,): 128 * sum of the key's codes

    static std::size_t padded_d(const Problem& P) { return (P.d + 3) / 4 * 4; }
    static std::size_t slots_of(const Problem& P) { return (P.m + nr - 1) / nr * nr; }
    /// Bytes allocated: the packed codes, scales, offsets and the key layout (per call), a block's Local
    /// (per thread).
    static std::size_t packed_bytes(const Problem& P) {
        return slots_of(P) * (padded_d(P) + sizeof(float) + sizeof(std::int32_t)) + key_layout_bytes(P, nr);
    }
    static std::size_t local_bytes(const Problem& P, std::size_t block_rows) {
        return block_rows * (padded_d(P) + sizeof(float));
    }

    Int8Panels(const Problem& problem, int threads)
        : P(problem), padded(padded_d(problem)), layout(key_layout(problem, nr)) {
        const std::size_t slots = slots_of(P);
        panels = aligned_array<std::int8_t>(slots * padded);
        scales = aligned_array<float>(slots);
        offsets = aligned_array<std::int32_t>(slots);
        std::int8_t* base = panels.get();
        pack_panels(P, layout, nr, threads, [&](std::size_t p, std::size_t c, const float* src) {
            const std::size_t slot = p * nr + c;
            std::int8_t* lane = base + p * padded * nr + c * 4;
            if (src == nullptr) {
                for (std::size_t g = 0; g < padded / 4; ++g) std::memset(lane + g * nr * 4, 0, 4);
                scales[slot] = 0.0f;
                offsets[slot] = 0;
                return;
            }
            scales[slot] = quantize_row(src, P.d, padded, 0, lane, nr * 4);
            std::int32_t sum = 0;
            for (std::size_t t = 0; t < padded; ++t) sum += lane[t / 4 * nr * 4 + t % 4];
            offsets[slot] = 128 * sum;
        });
    }

    Local local(std::size_t block_rows) const {
        return {aligned_array<std::uint8_t>(block_rows * padded), aligned_array<float>(block_rows)};
    }

    void load(Local& w, std::size_t i0, std::size_t rows) const {
        for (std::size_t r = 0; r < rows; ++r)
            w.scales[r] = Tile::quantize_query(P.queries + (i0 + r) * P.d, P.d, padded, w.codes.get() + r * padded);
    }

    void tile(const Local& w, std::size_t, const std::size_t* rows, std::size_t p, float* out) const {
        const std::uint8_t* q[mr];
        float qs[mr];
        for (int r = 0; r < mr; ++r) {
            q[r] = w.codes.get() + rows[r] * padded;
            qs[r] = w.scales[rows[r]];
        }
        const std::size_t slot = p * nr;
        Tile::tile(q, qs, panels.get() + p * padded * nr, scales.get() + slot, offsets.get() + slot, padded / 4, out);
    }
};

}  // namespace detail
}  // namespace exposure
