// @brief Top-k of sparse dot products: each query a list of (column, weight), the keys an inverted index.
//
// The title n-gram search: a query's TF-IDF row meets every key (indexed title) that
// shares one of its columns (n-grams). For each query the scores are summed into one
// dense float64 accumulator per thread, in the query's column order and each column's
// key order (the order numpy's bincount would add them); only the keys touched are
// ranked (through a sorted buffer of k) and reset, so a query costs what its columns'
// postings cost, not m.
// Ranking: descending score, lower key index first on ties; keys not touched (score 0)
// fill the rest of the k in index order. Every thread's scratch is allocated before the
// parallel region (an allocation failing inside one would abort the process).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#ifdef EXPOSURE_OPENMP
#include <omp.h>
#endif

namespace exposure {

/// @brief Queries as CSR rows: query i holds (cols[j], weights[j]) for j in [ptr[i], ptr[i+1]).
struct SparseQueries {
    const std::int64_t* ptr;
    const std::int64_t* cols;
    const double* weights;
    std::size_t n;
};

/// @brief Keys by column: column c holds (keys[p], weights[p]) for p in [ptr[c], ptr[c+1]).
struct InvertedIndex {
    const std::int64_t* ptr;
    const std::int32_t* keys;
    const float* weights;
    std::size_t m;  // keys
};

namespace detail {

/// One thread's scratch: the dense accumulator, whether a key is touched, and the keys touched (at most m, so
/// sized once: nothing grows while a query is scored).
struct SparseScratch {
    std::vector<double> acc;
    std::vector<unsigned char> seen;
    std::vector<std::int32_t> touched;
    std::size_t count = 0;  // touched[0, count)
    explicit SparseScratch(std::size_t m) : acc(m, 0.0), seen(m, 0), touched(m) {}
};

inline void sparse_topk_row(const SparseQueries& Q, const InvertedIndex& X, std::size_t i, std::size_t k,
                            SparseScratch& s, float* val, std::int64_t* idx) {
    // 1. scatter: every posting of every query column, in order
    s.count = 0;
    for (std::int64_t j = Q.ptr[i]; j < Q.ptr[i + 1]; ++j) {
        const std::int64_t c = Q.cols[j];
        const double w = Q.weights[j];
        for (std::int64_t p = X.ptr[c]; p < X.ptr[c + 1]; ++p) {
            const std::int32_t t = X.keys[p];
            if (!s.seen[t]) {
                s.seen[t] = 1;
                s.touched[s.count++] = t;
            }
            s.acc[t] += w * static_cast<double>(X.weights[p]);
        }
    }
    // 2. the k best keys with a non-zero score, kept sorted while the touched keys stream past
    const double* acc = s.acc.data();
    const auto better = [acc](std::int32_t a, std::int32_t b) { return acc[a] > acc[b] || (acc[a] == acc[b] && a < b); };
    std::size_t take = 0;
    std::int64_t* best = idx;  // idx[0..take) holds the best so far, in order
    for (std::size_t u = 0; u < s.count; ++u) {
        const std::int32_t t = s.touched[u];
        if (acc[t] == 0.0) continue;
        if (take == k && !better(t, static_cast<std::int32_t>(best[k - 1]))) continue;
        std::size_t r = take < k ? take++ : k - 1;
        while (r > 0 && better(t, static_cast<std::int32_t>(best[r - 1]))) {
            best[r] = best[r - 1];
            --r;
        }
        best[r] = t;
    }
    for (std::size_t r = 0; r < take; ++r) val[r] = static_cast<float>(acc[best[r]]);
    // 3. fewer than k scored keys: the unscored ones at 0, lowest index first
    std::size_t r = take;
    for (std::size_t t = 0; r < k && t < X.m; ++t) {
        if (acc[t] != 0.0) continue;  // scored above
        idx[r] = static_cast<std::int64_t>(t);
        val[r] = 0.0f;
        ++r;
    }
    // 4. reset what this query touched
    for (std::size_t u = 0; u < s.count; ++u) {
        const std::int32_t t = s.touched[u];
        s.acc[t] = 0.0;
        s.seen[t] = 0;
    }
}

}  // namespace detail

/// @brief Per query the k keys with the largest sparse dot product: val, idx of shape (n, k); k <= X.m.
inline void sparse_topk(const SparseQueries& Q, const InvertedIndex& X, std::size_t k, int threads, float* val,
                        std::int64_t* idx) {
    if (Q.n == 0 || k == 0) return;
#ifdef EXPOSURE_OPENMP
    const int wanted = threads > 0 ? threads : omp_get_max_threads();  // 0: the OpenMP default
    const int used = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(wanted), Q.n));
    // one scratch per thread, allocated here: nothing inside the parallel region allocates
    std::vector<detail::SparseScratch> spaces;
    spaces.reserve(static_cast<std::size_t>(used));
    for (int t = 0; t < used; ++t) spaces.emplace_back(X.m);
#pragma omp parallel num_threads(used)
    {
        detail::SparseScratch& s = spaces[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 16)
        for (std::int64_t i = 0; i < static_cast<std::int64_t>(Q.n); ++i)
            detail::sparse_topk_row(Q, X, static_cast<std::size_t>(i), k, s, val + i * k, idx + i * k);
    }
#else
    (void)threads;
    detail::SparseScratch s(X.m);
    for (std::size_t i = 0; i < Q.n; ++i) detail::sparse_topk_row(Q, X, i, k, s, val + i * k, idx + i * k);
#endif
}

}  // namespace exposure
