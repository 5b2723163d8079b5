// @brief Row sums per segment of a float32 matrix, accumulated in float64.
//
// Segment s is the rows offsets[s] .. offsets[s+1]-1; its sum starts from its first row and adds the
// others in row order, each column on its own, in double (an empty segment sums to 0). numpy's
// np.add.reduceat(values, starts, axis=0, dtype=np.float64) does the same additions in the same order on a
// matrix of several columns (a single column it adds pairwise), so there the sums are equal to the bit.
// One segment per work item (OpenMP), so the result does not depend on the thread count; nothing but the
// output is written.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef EXPOSURE_OPENMP
#include <omp.h>
#endif

namespace exposure {

inline void segment_sum(const float* values, std::size_t cols, const std::int64_t* offsets, std::size_t segments,
                        int threads, double* out) {
#ifdef EXPOSURE_OPENMP
    const int wanted = threads > 0 ? threads : omp_get_max_threads();  // 0: the OpenMP default
    const int used = static_cast<int>(segments < static_cast<std::size_t>(wanted) ? segments : wanted);
#pragma omp parallel for schedule(dynamic, 16) num_threads(used > 0 ? used : 1)
#else
    (void)threads;
#endif
    for (std::int64_t s = 0; s < static_cast<std::int64_t>(segments); ++s) {
        double* o = out + static_cast<std::size_t>(s) * cols;
        const std::int64_t first = offsets[s], end = offsets[s + 1];
        if (first == end) {
            for (std::size_t j = 0; j < cols; ++j) o[j] = 0.0;
            continue;
        }
        const float* row = values + static_cast<std::size_t>(first) * cols;
        for (std::size_t j = 0; j < cols; ++j) o[j] = static_cast<double>(row[j]);
        for (std::int64_t r = first + 1; r < end; ++r) {
            row = values + static_cast<std::size_t>(r) * cols;
            for (std::size_t j = 0; j < cols; ++j) o[j] += static_cast<double>(row[j]);
        }
    }
}

}  // namespace exposure
