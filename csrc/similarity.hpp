// @brief Tiled driver: packs keys once, walks query blocks in parallel, feeds each dot tile to a reduction.
//
// Loop nest (per thread, per query block of ~L2 size):
//   for each key panel (NR keys, d x NR floats, reused from L1/L2 by every micro-panel)
//     for each MR-row micro-panel of the query block (rows read in place)
//       MR x NR dot tile in registers -> L1 tile buffer -> reduction per (row, group segment)
// Keys are packed once per call, stably sorted by group, so a group is a contiguous
// run of packed keys and the reductions see segments instead of per-key group lookups.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef EXPOSURE_OPENMP
#include <omp.h>
#endif

#include "dot_tile.hpp"
#include "reductions.hpp"
#include "row_ops.hpp"
#include "simd_dispatch.hpp"

namespace exposure {

enum class Op { max, topk, logsumexp, matrix };

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

struct Settings {
    Op op = Op::max;
    std::size_t k = 0;
    float temperature = 1.0f;
    int threads = 0;             // 0: the OpenMP default
    std::size_t block_rows = 0;  // query rows per parallel work item; 0: sized to L2
};

/// @brief Caller-allocated results. values: (n, G) max/lse, (n, G, k) topk, (n, m) matrix; indices likewise or null.
struct Outputs {
    float* values = nullptr;
    std::int64_t* indices = nullptr;
};

inline int default_threads() {
#ifdef EXPOSURE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

namespace detail {

inline int thread_id() {
#ifdef EXPOSURE_OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

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

/// @brief Keys packed into NR-wide transposed panels, in group order, with each panel's group segments.
template <int NR>
struct PackedKeys {
    std::vector<std::int64_t> order;  // packed position -> original key index
    AlignedArray<float> panels;       // panel p at p * d * NR: element t of its key c at t * NR + c
    std::vector<std::size_t> first_segment;  // panel p's segments: [first_segment[p], first_segment[p + 1])
    std::vector<Segment> segments;
    std::size_t count = 0;
};

template <int NR>
PackedKeys<NR> pack_keys(const Problem& P, int threads) {
    PackedKeys<NR> K;
    K.count = (P.m + NR - 1) / NR;
    // 1. stable counting sort by group: within a group, keys stay in index order (tie rule)
    std::vector<std::size_t> start(P.num_groups + 1, 0);
    K.order.resize(P.m);
    if (P.groups == nullptr) {
        for (std::size_t j = 0; j < P.m; ++j) K.order[j] = static_cast<std::int64_t>(j);
        start[1] = P.m;
    } else {
        for (std::size_t j = 0; j < P.m; ++j) ++start[static_cast<std::size_t>(P.groups[j]) + 1];
        for (std::size_t g = 0; g < P.num_groups; ++g) start[g + 1] += start[g];
        std::vector<std::size_t> next(start.begin(), start.end() - 1);
        for (std::size_t j = 0; j < P.m; ++j)
            K.order[next[static_cast<std::size_t>(P.groups[j])]++] = static_cast<std::int64_t>(j);
    }
    // 2. per panel, the runs of columns that share a group
    K.first_segment.assign(1, 0);
    for (std::size_t p = 0; p < K.count; ++p) {
        const std::size_t lo = p * NR, hi = std::min(P.m, lo + NR);
        for (std::size_t g = 0; g < P.num_groups; ++g) {
            const std::size_t a = std::max(lo, start[g]), b = std::min(hi, start[g + 1]);
            if (a < b) K.segments.push_back({g, static_cast<int>(a - lo), static_cast<int>(b - lo)});
        }
        K.first_segment.push_back(K.segments.size());
    }
    // 3. transpose into panels, zero-padding the last one; remember the first non-finite key
    K.panels = aligned_array<float>(K.count * P.d * NR);
    float* panels = K.panels.get();
    std::size_t bad = P.m;
    const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(K.count);
#pragma omp parallel for num_threads(threads) schedule(static) reduction(min : bad)
    for (std::ptrdiff_t p = 0; p < count; ++p) {
        float* dst = panels + static_cast<std::size_t>(p) * P.d * NR;
        for (int c = 0; c < NR; ++c) {
            const std::size_t j = static_cast<std::size_t>(p) * NR + c;
            if (j < P.m) {
                const std::size_t key = static_cast<std::size_t>(K.order[j]);
                const float* src = P.keys + key * P.d;
                for (std::size_t t = 0; t < P.d; ++t) dst[t * NR + c] = src[t];
                if (!row_is_finite(src, P.d)) bad = std::min(bad, key);
            } else {
                for (std::size_t t = 0; t < P.d; ++t) dst[t * NR + c] = 0.0f;
            }
        }
    }
    if (bad < P.m) throw std::invalid_argument("keys row " + std::to_string(bad) + " contains NaN or inf");
    return K;
}

/// @brief First row in [i0, i0 + rows) holding NaN or inf, or n.
inline std::size_t first_bad_query(const Problem& P, std::size_t i0, std::size_t rows) {
    for (std::size_t r = 0; r < rows; ++r)
        if (!row_is_finite(P.queries + (i0 + r) * P.d, P.d)) return i0 + r;
    return P.n;
}

/// @brief Query rows per work item: the block's rows should sit in about a quarter of a 1-2 MiB L2.
template <int MR>
std::size_t pick_block_rows(const Problem& P, const Settings& S, int threads) {
    std::size_t rows = S.block_rows;
    if (rows == 0) {
        rows = std::clamp<std::size_t>((256u << 10) / (4 * std::max<std::size_t>(P.d, 1)), MR, 512);
        // small n: still give every thread something to do
        const std::size_t per_thread = (P.n + threads - 1) / static_cast<std::size_t>(threads);
        rows = std::min(rows, std::max<std::size_t>(per_thread, 1));
    }
    return (rows + MR - 1) / MR * MR;
}

/// @brief The parallel loop over query blocks for one ISA path and one reduction.
template <class Tile, class Reduction, class MakeReduction>
void run_blocks(const Problem& P, const PackedKeys<Tile::nr>& K, std::size_t block_rows, int threads,
                std::size_t scratch_per_row, MakeReduction make) {
    constexpr int MR = Tile::mr, NR = Tile::nr;
    const std::size_t blocks = (P.n + block_rows - 1) / block_rows;
    const std::size_t micro_per_block = block_rows / MR;

    // Allocated before the parallel region: nothing inside it may throw.
    struct Workspace {
        AlignedArray<float> tile;
        AlignedArray<double> scratch;
    };
    std::vector<Workspace> spaces(static_cast<std::size_t>(threads));
    for (Workspace& w : spaces) {
        w.tile = aligned_array<float>(MR * NR);
        w.scratch = aligned_array<double>(block_rows * scratch_per_row);
    }

    std::size_t bad = P.n;  // first query row with NaN or inf
    const std::ptrdiff_t block_count = static_cast<std::ptrdiff_t>(blocks);
#pragma omp parallel num_threads(threads) reduction(min : bad)
    {
        Workspace& w = spaces[static_cast<std::size_t>(thread_id())];
        const Reduction red = make(w.scratch.get());
#pragma omp for schedule(dynamic, 1)
        for (std::ptrdiff_t b = 0; b < block_count; ++b) {
            const std::size_t i0 = static_cast<std::size_t>(b) * block_rows;
            const std::size_t rows = std::min(block_rows, P.n - i0);
            const std::size_t micro = std::min(micro_per_block, (rows + MR - 1) / MR);
            // 1. note the first non-finite row (this also pulls the block into cache)
            bad = std::min(bad, first_bad_query(P, i0, rows));
            // 2. reset every row's running state
            for (std::size_t r = 0; r < rows; ++r) red.begin(i0 + r, r);
            // 3. dot tiles, each reduced while it is in L1
            for (std::size_t p = 0; p < K.count; ++p) {
                const float* panel = K.panels.get() + p * P.d * NR;
                const std::int64_t* ids = K.order.data() + p * NR;
                for (std::size_t mp = 0; mp < micro; ++mp) {
                    // a short last micro-panel repeats its last row; those scores are never reduced
                    const std::size_t r_end = std::min<std::size_t>(MR, rows - mp * MR);
                    const float* q[MR];
                    for (std::size_t r = 0; r < MR; ++r)
                        q[r] = P.queries + (i0 + mp * MR + std::min(r, r_end - 1)) * P.d;
                    Tile::tile(q, panel, P.d, w.tile.get());
                    for (std::size_t s = K.first_segment[p]; s < K.first_segment[p + 1]; ++s)
                        for (std::size_t r = 0; r < r_end; ++r) {
                            const std::size_t local = mp * MR + r;
                            red.add(i0 + local, local, K.segments[s], w.tile.get() + r * NR, ids);
                        }
                }
            }
            // 4. turn running state into results
            for (std::size_t r = 0; r < rows; ++r) red.finish(i0 + r, r);
        }
    }
    if (bad < P.n) throw std::invalid_argument("queries row " + std::to_string(bad) + " contains NaN or inf");
}

template <class Tile, class Rows>
void run_path(const Problem& P, const Settings& S, const Outputs& out) {
    constexpr int NR = Tile::nr;
    const int threads = S.threads > 0 ? S.threads : default_threads();
    const std::size_t block_rows = pick_block_rows<Tile::mr>(P, S, threads);
    const PackedKeys<NR> K = pack_keys<NR>(P, threads);
    const std::size_t G = P.num_groups;
    switch (S.op) {
        case Op::max: {
            using R = MaxReduction<Rows, NR>;
            run_blocks<Tile, R>(P, K, block_rows, threads, 0, [&](double*) { return R{out.values, out.indices, G}; });
            break;
        }
        case Op::topk: {
            using R = TopkReduction<Rows, NR>;
            // k = 0 keeps nothing: skip the dot products but still check the queries
            PackedKeys<NR> none;
            none.first_segment.assign(1, 0);
            run_blocks<Tile, R>(P, S.k == 0 ? none : K, block_rows, threads, 0,
                                [&](double*) { return R{out.values, out.indices, G, S.k}; });
            break;
        }
        case Op::logsumexp: {
            using R = LogsumexpReduction<Rows, NR>;
            const float inv_t = 1.0f / S.temperature;
            run_blocks<Tile, R>(P, K, block_rows, threads, G, [&](double* scratch) {
                return R{out.values, scratch, G, S.temperature, inv_t};
            });
            break;
        }
        case Op::matrix: {
            using R = MatrixReduction<Rows, NR>;
            run_blocks<Tile, R>(P, K, block_rows, threads, 0, [&](double*) { return R{out.values, P.m}; });
            break;
        }
    }
}

inline void validate(const Problem& P, const Settings& S) {
    if (S.op == Op::topk && S.k > P.m)
        throw std::invalid_argument("k=" + std::to_string(S.k) + " is larger than the number of keys m=" +
                                    std::to_string(P.m));
    if (S.op == Op::logsumexp && !(S.temperature > 0.0f && std::isfinite(S.temperature)))
        throw std::invalid_argument("temperature must be a positive finite number, got " +
                                    std::to_string(S.temperature));
    if (S.threads < 0)
        throw std::invalid_argument("threads must be positive, got " + std::to_string(S.threads));
    if (P.groups == nullptr) {
        if (P.num_groups != 1) throw std::invalid_argument("num_groups needs a groups array");
        return;
    }
    if (S.op == Op::matrix) throw std::invalid_argument("groups are not supported with op='matrix'");
    for (std::size_t j = 0; j < P.m; ++j) {
        const std::int64_t g = P.groups[j];
        if (g < 0 || static_cast<std::size_t>(g) >= P.num_groups)
            throw std::invalid_argument("groups[" + std::to_string(j) + "] = " + std::to_string(g) +
                                        " is outside [0, num_groups=" + std::to_string(P.num_groups) + ")");
    }
}

}  // namespace detail

/// @brief Similarities Q·K^T reduced on the fly (see Op), on the active SIMD path; throws std::invalid_argument.
inline void similarity_reduce(const Problem& P, const Settings& S, const Outputs& out) {
    detail::validate(P, S);
    switch (active_isa()) {
#ifdef EXPOSURE_X86
        case Isa::avx512: detail::run_path<Avx512Tile, Avx512Rows>(P, S, out); break;
        case Isa::avx2: detail::run_path<Avx2Tile, Avx2Rows>(P, S, out); break;
#endif
        default: detail::run_path<ScalarTile, ScalarRows<ScalarTile::nr>>(P, S, out); break;
    }
}

/// @brief The micro-tile shape (rows x keys) of a path, for build_info.
inline std::string tile_shape(Isa isa) {
    switch (isa) {
#ifdef EXPOSURE_X86
        case Isa::avx512: return std::to_string(Avx512Tile::mr) + "x" + std::to_string(Avx512Tile::nr);
        case Isa::avx2: return std::to_string(Avx2Tile::mr) + "x" + std::to_string(Avx2Tile::nr);
#endif
        default: return std::to_string(ScalarTile::mr) + "x" + std::to_string(ScalarTile::nr);
    }
}

}  // namespace exposure
