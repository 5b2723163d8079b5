// @brief Tiled driver: packs keys once, walks query blocks in parallel, feeds each dot tile to a reduction.
//
// Loop nest (per thread, per query block of ~L2 size):
//   for each key panel (NR keys, d x NR values, reused from L1/L2 by every micro-panel)
//     for each MR-row micro-panel of the query block
//       MR x NR dot tile in registers -> L1 tile buffer -> reduction per (row, group segment)
// Keys are packed once per call (panels.hpp), stably sorted by group, so a group is a
// contiguous run of packed keys and the reductions see segments instead of per-key
// group lookups. Precision::int8 runs the same loop on int8 panels (int8_tile.hpp);
// its max and top-k keep a few extra candidates and re-rank them exactly (rescore.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef EXPOSURE_OPENMP
#include <omp.h>
#endif

#include "dot_tile.hpp"
#include "int8_tile.hpp"
#include "panels.hpp"
#include "reductions.hpp"
#include "rescore.hpp"
#include "row_ops.hpp"
#include "simd_dispatch.hpp"

namespace exposure {

enum class Op { max, topk, logsumexp, matrix };

enum class Precision { fp32, int8 };

struct Settings {
    Op op = Op::max;
    std::size_t k = 0;
    float temperature = 1.0f;
    int threads = 0;             // 0: the OpenMP default
    std::size_t block_rows = 0;  // query rows per parallel work item; 0: sized to L2
    Precision precision = Precision::fp32;
    std::size_t candidates = 0;  // int8 max/top-k: keys re-ranked exactly per (query, group); 0: k + 4
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

/// @brief Throws naming the first of `rows` rows (of width d) that holds NaN or inf.
inline void check_finite(const float* x, std::size_t rows, std::size_t d, const char* name) {
    for (std::size_t r = 0; r < rows; ++r)
        if (!row_is_finite(x + r * d, d))
            throw std::invalid_argument(std::string(name) + " row " + std::to_string(r) + " contains NaN or inf");
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

/// @brief The parallel loop over query blocks for one panel type (ISA and precision) and one reduction.
template <class Panels, class Reduction, class MakeReduction>
void run_blocks(const Problem& P, const Panels& K, std::size_t block_rows, int threads,
                std::size_t scratch_bytes_per_row, MakeReduction make) {
    constexpr int MR = Panels::mr, NR = Panels::nr;
    const KeyLayout& L = K.layout;
    const std::size_t blocks = (P.n + block_rows - 1) / block_rows;
    const std::size_t micro_per_block = block_rows / MR;

    // Allocated before the parallel region: nothing inside it may throw.
    struct Workspace {
        AlignedArray<float> tile;
        AlignedArray<unsigned char> scratch;
        typename Panels::Local local;
    };
    std::vector<Workspace> spaces(static_cast<std::size_t>(threads));
    for (Workspace& w : spaces) {
        w.tile = aligned_array<float>(MR * NR);
        w.scratch = aligned_array<unsigned char>(block_rows * scratch_bytes_per_row);
        w.local = K.local(block_rows);
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
            // 1. note the first non-finite row (this also pulls the block into cache), prepare the block
            bad = std::min(bad, first_bad_query(P, i0, rows));
            K.load(w.local, i0, rows);
            // 2. reset every row's running state
            for (std::size_t r = 0; r < rows; ++r) red.begin(i0 + r, r);
            // 3. dot tiles, each reduced while it is in L1
            for (std::size_t p = 0; p < L.count; ++p) {
                const std::int64_t* ids = L.order.data() + p * NR;
                for (std::size_t mp = 0; mp < micro; ++mp) {
                    // a short last micro-panel repeats its last row; those scores are never reduced
                    const std::size_t r_end = std::min<std::size_t>(MR, rows - mp * MR);
                    std::size_t local_rows[MR];
                    for (std::size_t r = 0; r < MR; ++r) local_rows[r] = mp * MR + std::min(r, r_end - 1);
                    K.tile(w.local, i0, local_rows, p, w.tile.get());
                    for (std::size_t s = L.first_segment[p]; s < L.first_segment[p + 1]; ++s)
                        for (std::size_t r = 0; r < r_end; ++r) {
                            const std::size_t local = mp * MR + r;
                            red.add(i0 + local, local, L.segments[s], w.tile.get() + r * NR, ids);
                        }
                }
            }
            // 4. turn running state into results
            for (std::size_t r = 0; r < rows; ++r) red.finish(i0 + r, r);
        }
    }
    if (bad < P.n) throw std::invalid_argument("queries row " + std::to_string(bad) + " contains NaN or inf");
}

/// @brief int8 max / top-k: keys kept per (query, group) by int8 score, to be re-ranked in float32.
inline std::size_t rescored_candidates(const Problem& P, const Settings& S) {
    const std::size_t k = S.op == Op::max ? 1 : S.k;
    return std::min(P.m, std::max(k, S.candidates > 0 ? S.candidates : k + 4));
}

/// @brief Whether a call of this panel type runs the rescored int8 max / top-k.
template <class Panels>
bool rescored(const Settings& S) {
    return Panels::approximate && (S.op == Op::max || S.op == Op::topk);
}

/// @brief Scratch bytes per query row of a block, per thread: the rescored candidates (int64 index and float
/// score each) per group, a float64 sum per group for logsumexp, none otherwise.
template <class Panels>
std::size_t scratch_bytes_per_row(const Problem& P, const Settings& S) {
    if (rescored<Panels>(S)) return P.num_groups * rescored_candidates(P, S) * (sizeof(float) + sizeof(std::int64_t));
    return S.op == Op::logsumexp ? P.num_groups * sizeof(double) : 0;
}

/// @brief The thread count a call runs on: the one asked for, else the OpenMP default.
inline int call_threads(const Settings& S) { return S.threads > 0 ? S.threads : default_threads(); }

/// @brief int8 max / top-k: the `candidates` best by int8 score per (query, group), re-ranked in float32.
template <class Panels, class Rows, class Dot>
void run_rescored(const Problem& P, const Settings& S, const Outputs& out, const Panels& K, std::size_t block_rows,
                  int threads) {
    constexpr int NR = Panels::nr;
    using R = RescoredTopk<Rows, NR, Dot>;
    const std::size_t G = P.num_groups;
    const std::size_t k = S.op == Op::max ? 1 : S.k;
    const std::size_t kc = rescored_candidates(P, S);
    const std::size_t per_row = G * kc;  // candidates per block row; the block's int64 indices, then its floats
    run_blocks<Panels, R>(P, K, block_rows, threads, scratch_bytes_per_row<Panels>(P, S),
                          [&](unsigned char* scratch) {
                              auto* ids = reinterpret_cast<std::int64_t*>(scratch);
                              auto* vals = reinterpret_cast<float*>(scratch + block_rows * per_row * sizeof(std::int64_t));
                              return R{TopkReduction<Rows, NR>{vals, ids, G, kc}, P.queries, P.keys, P.d,
                                       out.values, out.indices, k};
                          });
}

template <class Panels, class Rows, class Dot = ScalarDot>
void run_path(const Problem& P, const Settings& S, const Outputs& out) {
    constexpr int NR = Panels::nr;
    const int threads = call_threads(S);
    const std::size_t block_rows = pick_block_rows<Panels::mr>(P, S, threads);
    const Panels K(P, threads);
    const std::size_t G = P.num_groups;
    if constexpr (Panels::approximate) {
        if (rescored<Panels>(S)) {
            run_rescored<Panels, Rows, Dot>(P, S, out, K, block_rows, threads);
            return;
        }
    }
    switch (S.op) {
        case Op::max: {
            using R = MaxReduction<Rows, NR>;
            run_blocks<Panels, R>(P, K, block_rows, threads, 0, [&](unsigned char*) { return R{out.values, out.indices, G}; });
            break;
        }
        case Op::topk: {
            using R = TopkReduction<Rows, NR>;
            run_blocks<Panels, R>(P, K, block_rows, threads, 0,
                                  [&](unsigned char*) { return R{out.values, out.indices, G, S.k}; });
            break;
        }
        case Op::logsumexp: {
            using R = LogsumexpReduction<Rows, NR>;
            const float inv_t = 1.0f / S.temperature;
            run_blocks<Panels, R>(P, K, block_rows, threads, scratch_bytes_per_row<Panels>(P, S),
                                  [&](unsigned char* scratch) {
                return R{out.values, reinterpret_cast<double*>(scratch), G, S.temperature, inv_t};
            });
            break;
        }
        case Op::matrix: {
            using R = MatrixReduction<Rows, NR>;
            run_blocks<Panels, R>(P, K, block_rows, threads, 0, [&](unsigned char*) { return R{out.values, P.m}; });
            break;
        }
    }
}

/// @brief What run_path<Panels> allocates besides the outputs: the packed keys and their layout, and per thread
/// a dot tile, the block's scratch and the panels' Local; sized by the functions run_path sizes them with.
template <class Panels>
std::size_t path_workspace_bytes(const Problem& P, const Settings& S) {
    const int threads = call_threads(S);
    const std::size_t block_rows = pick_block_rows<Panels::mr>(P, S, threads);
    const std::size_t per_thread = Panels::mr * Panels::nr * sizeof(float) +
                                   block_rows * scratch_bytes_per_row<Panels>(P, S) +
                                   Panels::local_bytes(P, block_rows);
    return Panels::packed_bytes(P) + static_cast<std::size_t>(threads) * per_thread;
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
    if (S.precision == Precision::int8 && P.d > int8_max_d)
        throw std::invalid_argument("precision='int8' supports d up to " + std::to_string(int8_max_d) + ", got d=" +
                                    std::to_string(P.d));
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

/// @brief The int8 micro-kernel in use: "avx512_vnni" on the AVX-512 path of a VNNI CPU, else "scalar".
inline const char* int8_path() { return use_vnni() ? "avx512_vnni" : "scalar"; }

/// @brief Similarities Q·K^T reduced on the fly (see Op), on the active SIMD path; throws std::invalid_argument.
inline void similarity_reduce(const Problem& P, const Settings& S, const Outputs& out) {
    detail::validate(P, S);
    if (S.op == Op::topk && S.k == 0) {  // nothing to keep: no dot products, but the inputs are still checked
        detail::check_finite(P.keys, P.m, P.d, "keys");
        detail::check_finite(P.queries, P.n, P.d, "queries");
        return;
    }
    if (S.precision == Precision::int8) {
        using detail::Int8Panels;
#ifdef EXPOSURE_X86
        if (use_vnni()) {
            detail::run_path<Int8Panels<Vnni512Tile>, Avx512Rows, Avx512Dot>(P, S, out);
            return;
        }
#endif
        detail::run_path<Int8Panels<ScalarInt8Tile>, ScalarRows<ScalarInt8Tile::nr>>(P, S, out);
        return;
    }
    using detail::F32Panels;
    switch (active_isa()) {
#ifdef EXPOSURE_X86
        case Isa::avx512: detail::run_path<F32Panels<Avx512Tile>, Avx512Rows>(P, S, out); break;
        case Isa::avx2: detail::run_path<F32Panels<Avx2Tile>, Avx2Rows>(P, S, out); break;
#endif
        default: detail::run_path<F32Panels<ScalarTile>, ScalarRows<ScalarTile::nr>>(P, S, out); break;
    }
}

/// @brief Bytes similarity_reduce(P, S, ...) would allocate besides its outputs, on the active SIMD path (the
/// same dispatch); P's data pointers are not read. For planning a call before making it.
inline std::size_t workspace_bytes(const Problem& P, const Settings& S) {
    if (S.op == Op::topk && S.k == 0) return 0;
    if (S.precision == Precision::int8) {
        using detail::Int8Panels;
#ifdef EXPOSURE_X86
        if (use_vnni()) return detail::path_workspace_bytes<Int8Panels<Vnni512Tile>>(P, S);
#endif
        return detail::path_workspace_bytes<Int8Panels<ScalarInt8Tile>>(P, S);
    }
    using detail::F32Panels;
    switch (active_isa()) {
#ifdef EXPOSURE_X86
        case Isa::avx512: return detail::path_workspace_bytes<F32Panels<Avx512Tile>>(P, S);
        case Isa::avx2: return detail::path_workspace_bytes<F32Panels<Avx2Tile>>(P, S);
#endif
        default: return detail::path_workspace_bytes<F32Panels<ScalarTile>>(P, S);
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
