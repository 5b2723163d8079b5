// @brief exposure._core: checks buffers, releases the GIL and calls the similarity kernel. No arithmetic here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "similarity.hpp"
#include "segment_sum.hpp"
#include "sparse_topk.hpp"
#include "wordpiece.hpp"

namespace py = pybind11;
using exposure::Op;

namespace {

/// "float64 (1000, 768)": what the user passed, for error messages.
std::string describe(const py::array& a) {
    std::string shape = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        if (i > 0) shape += ", ";
        shape += std::to_string(a.shape(i));
    }
    if (a.ndim() == 1) shape += ",";
    return std::string(py::str(a.dtype())) + " " + shape + ")";
}

bool is_c_contiguous(const py::array& a) { return (a.flags() & py::array::c_style) != 0; }

/// Checks a (rows, d) float32 C-contiguous matrix; never converts (the Python layer does that, once).
const float* matrix_data(const py::array& a, const char* name) {
    if (a.ndim() != 2 || !a.dtype().is(py::dtype::of<float>()) || !is_c_contiguous(a))
        throw std::invalid_argument(std::string(name) + " must be a C-contiguous float32 array of shape (rows, d), got " +
                                    describe(a) + "; try numpy.ascontiguousarray(x, dtype=numpy.float32)");
    return static_cast<const float*>(a.data());
}

Op parse_op(const std::string& op) {
    if (op == "max") return Op::max;
    if (op == "topk") return Op::topk;
    if (op == "logsumexp") return Op::logsumexp;
    if (op == "matrix") return Op::matrix;
    throw std::invalid_argument("op must be one of 'max', 'topk', 'logsumexp', 'matrix', got '" + op + "'");
}

exposure::Precision parse_precision(const std::string& precision) {
    if (precision == "fp32") return exposure::Precision::fp32;
    if (precision == "int8") return exposure::Precision::int8;
    throw std::invalid_argument("precision must be 'fp32' or 'int8', got '" + precision + "'");
}

/// The kernel's settings from reduce()'s arguments (checked by the kernel, or parsed here).
exposure::Settings settings(const std::string& op, std::size_t k, float temperature, int threads,
                            std::size_t block_rows, const std::string& precision, std::size_t candidates) {
    exposure::Settings S;
    S.op = parse_op(op);
    S.precision = parse_precision(precision);
    S.candidates = candidates;
    S.k = k;
    S.temperature = temperature;
    S.threads = threads;
    S.block_rows = block_rows;
    return S;
}

py::tuple reduce(const py::array& queries, const py::array& keys, const std::string& op, std::size_t k,
                 float temperature, const std::optional<py::array>& groups, std::size_t num_groups,
                 const std::optional<py::array>& out, int threads, std::size_t block_rows,
                 const std::string& precision, std::size_t candidates) {
    exposure::Problem P;
    const exposure::Settings S = settings(op, k, temperature, threads, block_rows, precision, candidates);

    P.queries = matrix_data(queries, "queries");
    P.keys = matrix_data(keys, "keys");
    P.n = static_cast<std::size_t>(queries.shape(0));
    P.m = static_cast<std::size_t>(keys.shape(0));
    P.d = static_cast<std::size_t>(queries.shape(1));
    if (static_cast<std::size_t>(keys.shape(1)) != P.d)
        throw std::invalid_argument("keys must have " + std::to_string(P.d) + " columns like the queries, got " +
                                    describe(keys));

    if (groups) {
        const py::array& g = *groups;
        if (g.ndim() != 1 || !g.dtype().is(py::dtype::of<std::int64_t>()) || !is_c_contiguous(g) ||
            static_cast<std::size_t>(g.shape(0)) != P.m)
            throw std::invalid_argument("groups must be a contiguous int64 array with one entry per key (" +
                                        std::to_string(P.m) + ",), got " + describe(g));
        P.groups = static_cast<const std::int64_t*>(g.data());
    }
    P.num_groups = num_groups;

    // Result shapes: (n,) / (n, k) without groups, (n, G) / (n, G, k) with them, (n, m) for the matrix.
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(P.n)};
    if (S.op == Op::matrix) {
        shape.push_back(static_cast<py::ssize_t>(P.m));
    } else {
        if (groups) shape.push_back(static_cast<py::ssize_t>(P.num_groups));
        if (S.op == Op::topk) shape.push_back(static_cast<py::ssize_t>(S.k));
    }

    py::array_t<float> values;
    if (out) {
        if (S.op != Op::matrix) throw std::invalid_argument("out is only supported with op='matrix'");
        const py::array& o = *out;
        if (o.ndim() != 2 || !o.dtype().is(py::dtype::of<float>()) || !is_c_contiguous(o) || !o.writeable() ||
            o.shape(0) != shape[0] || o.shape(1) != shape[1])
            throw std::invalid_argument("out must be a writeable C-contiguous float32 array of shape (" +
                                        std::to_string(P.n) + ", " + std::to_string(P.m) + "), got " + describe(o));
        values = py::reinterpret_borrow<py::array_t<float>>(o);
    } else {
        values = py::array_t<float>(shape);
    }
    const bool has_indices = S.op == Op::max || S.op == Op::topk;
    py::array_t<std::int64_t> indices = has_indices ? py::array_t<std::int64_t>(shape) : py::array_t<std::int64_t>(0);

    exposure::Outputs result{values.mutable_data(), has_indices ? indices.mutable_data() : nullptr};
    {
        py::gil_scoped_release release;
        exposure::similarity_reduce(P, S, result);
    }
    if (!has_indices) return py::make_tuple(values, py::none());
    return py::make_tuple(values, indices);
}

/// What reduce() with these sizes and settings allocates besides its results, in bytes.
std::size_t workspace_bytes(std::size_t n, std::size_t m, std::size_t d, const std::string& op, std::size_t k,
                            std::size_t num_groups, int threads, std::size_t block_rows, const std::string& precision,
                            std::size_t candidates) {
    if (threads < 0) throw std::invalid_argument("threads must be positive, got " + std::to_string(threads));
    exposure::Problem P;
    P.n = n;
    P.m = m;
    P.d = d;
    P.num_groups = num_groups == 0 ? 1 : num_groups;
    return exposure::workspace_bytes(P, settings(op, k, 1.0f, threads, block_rows, precision, candidates));
}

/// Checks a 1-D C-contiguous array of dtype T with `size` entries (any size when size < 0).
template <class T>
const T* vector_data(const py::array& a, const char* name, const char* dtype, py::ssize_t size = -1) {
    if (a.ndim() != 1 || !a.dtype().is(py::dtype::of<T>()) || !is_c_contiguous(a) || (size >= 0 && a.shape(0) != size))
        throw std::invalid_argument(std::string(name) + " must be a C-contiguous " + dtype + " array of shape (" +
                                    (size >= 0 ? std::to_string(size) + "," : std::string("n,")) + "), got " +
                                    describe(a));
    return static_cast<const T*>(a.data());
}

/// Checks that a CSR pointer array starts at 0, never decreases and ends at `total`.
void check_ptr(const std::int64_t* ptr, std::size_t rows, std::size_t total, const char* name) {
    if (ptr[0] != 0 || static_cast<std::size_t>(ptr[rows]) != total)
        throw std::invalid_argument(std::string(name) + " must start at 0 and end at " + std::to_string(total));
    for (std::size_t i = 0; i < rows; ++i)
        if (ptr[i + 1] < ptr[i]) throw std::invalid_argument(std::string(name) + " must not decrease");
}

py::tuple sparse_topk(const py::array& q_ptr, const py::array& q_cols, const py::array& q_weights,
                      const py::array& ptr, const py::array& keys, const py::array& weights, std::size_t m,
                      std::size_t k, int threads) {
    if (q_ptr.ndim() != 1 || q_ptr.shape(0) < 1) throw std::invalid_argument("q_ptr must have one entry per query, plus one");
    const std::size_t n = static_cast<std::size_t>(q_ptr.shape(0)) - 1;
    if (ptr.ndim() != 1 || ptr.shape(0) < 1) throw std::invalid_argument("ptr must have one entry per column, plus one");
    const std::size_t columns = static_cast<std::size_t>(ptr.shape(0)) - 1;
    if (k > m) throw std::invalid_argument("k must be at most the number of keys (" + std::to_string(m) + "), got " +
                                           std::to_string(k));
    exposure::SparseQueries Q{vector_data<std::int64_t>(q_ptr, "q_ptr", "int64"),
                              vector_data<std::int64_t>(q_cols, "q_cols", "int64"),
                              vector_data<double>(q_weights, "q_weights", "float64", q_cols.shape(0)), n};
    exposure::InvertedIndex X{vector_data<std::int64_t>(ptr, "ptr", "int64"),
                              vector_data<std::int32_t>(keys, "keys", "int32"),
                              vector_data<float>(weights, "weights", "float32", keys.shape(0)), m};
    check_ptr(Q.ptr, n, static_cast<std::size_t>(q_cols.shape(0)), "q_ptr");
    check_ptr(X.ptr, columns, static_cast<std::size_t>(keys.shape(0)), "ptr");
    for (py::ssize_t j = 0; j < q_cols.shape(0); ++j)
        if (Q.cols[j] < 0 || static_cast<std::size_t>(Q.cols[j]) >= columns)
            throw std::invalid_argument("q_cols must lie in [0, " + std::to_string(columns) + "), got " +
                                        std::to_string(Q.cols[j]));
    for (py::ssize_t p = 0; p < keys.shape(0); ++p)
        if (X.keys[p] < 0 || static_cast<std::size_t>(X.keys[p]) >= m)
            throw std::invalid_argument("keys must lie in [0, " + std::to_string(m) + "), got " + std::to_string(X.keys[p]));

    py::array_t<float> val({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(k)});
    py::array_t<std::int64_t> idx({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(k)});
    {
        py::gil_scoped_release release;
        exposure::sparse_topk(Q, X, k, threads, val.mutable_data(), idx.mutable_data());
    }
    return py::make_tuple(val, idx);
}

py::array_t<double> segment_sum(const py::array& values, const py::array& offsets, int threads) {
    const float* data = matrix_data(values, "values");
    if (offsets.ndim() != 1 || offsets.shape(0) < 1)
        throw std::invalid_argument("offsets must have one entry per segment, plus one, got " + describe(offsets));
    const std::size_t segments = static_cast<std::size_t>(offsets.shape(0)) - 1;
    const std::int64_t* ptr = vector_data<std::int64_t>(offsets, "offsets", "int64");
    check_ptr(ptr, segments, static_cast<std::size_t>(values.shape(0)), "offsets");
    const std::size_t cols = static_cast<std::size_t>(values.shape(1));
    py::array_t<double> out({static_cast<py::ssize_t>(segments), static_cast<py::ssize_t>(cols)});
    {
        py::gil_scoped_release release;
        exposure::segment_sum(data, cols, ptr, segments, threads, out.mutable_data());
    }
    return out;
}

exposure::WordPiece make_wordpiece(const py::dict& vocab, const std::string& prefix, std::int32_t unk,
                                   std::int32_t cls, std::int32_t sep, bool lowercase, std::size_t max_word_chars,
                                   const std::vector<std::string>& added) {
    std::vector<std::string> tokens;
    std::vector<std::int32_t> ids;
    for (const auto& item : vocab) {
        tokens.push_back(item.first.cast<std::string>());
        ids.push_back(item.second.cast<std::int32_t>());
    }
    return exposure::WordPiece(tokens, ids, prefix, {unk, cls, sep, lowercase, max_word_chars}, added);
}

/// (ids int64 of the texts encoded, one after the other; their lengths, 0 where not encoded; truncated; encoded):
/// texts that are not ASCII str, or hold an added token, are not encoded (left to the caller).
py::tuple wordpiece_encode(const exposure::WordPiece& wp, const py::list& texts, std::size_t max_length, int threads) {
    if (max_length != 0 && max_length < 3)
        throw std::invalid_argument("max_length must be 0 (no truncation) or at least 3 ([CLS], a token, [SEP]), "
                                    "got " + std::to_string(max_length));
    const std::size_t n = texts.size();
    std::vector<py::object> held;  // the texts stay alive while the GIL is released
    std::vector<const char*> data(n, nullptr);  // null: not an ASCII str, left to the caller
    std::vector<std::size_t> sizes(n, 0);
    held.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        py::object t = texts[i];
        PyObject* o = t.ptr();
        if (PyUnicode_Check(o) && PyUnicode_IS_ASCII(o)) {
            data[i] = static_cast<const char*>(PyUnicode_DATA(o));
            sizes[i] = static_cast<std::size_t>(PyUnicode_GET_LENGTH(o));
        }
        held.push_back(std::move(t));
    }
    py::array_t<bool> encoded(static_cast<py::ssize_t>(n)), truncated(static_cast<py::ssize_t>(n));
    std::vector<std::vector<std::int32_t>> ids;
    {
        py::gil_scoped_release release;
        exposure::wordpiece_batch(wp, data.data(), sizes.data(), n, max_length, threads, ids,
                                  encoded.mutable_data(), truncated.mutable_data());
    }
    py::array_t<std::int64_t> lengths(static_cast<py::ssize_t>(n));
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        lengths.mutable_data()[i] = static_cast<std::int64_t>(ids[i].size());  // empty where not encoded
        total += ids[i].size();
    }
    py::array_t<std::int64_t> flat(static_cast<py::ssize_t>(total));
    std::int64_t* out = flat.mutable_data();
    for (const auto& v : ids) out = std::copy(v.begin(), v.end(), out);
    return py::make_tuple(flat, lengths, truncated, encoded);
}

std::string compiler() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("gcc ") + __VERSION__;
#elif defined(_MSC_VER)
    return "msvc " + std::to_string(_MSC_VER);
#else
    return "unknown";
#endif
}

py::dict build_info() {
    const exposure::Isa active = exposure::active_isa();
    const exposure::Isa best = exposure::detect_isa();
    py::list available;
    for (int i = 0; i <= static_cast<int>(best); ++i) available.append(exposure::isa_name(static_cast<exposure::Isa>(i)));
    py::dict info;
    info["isa"] = exposure::isa_name(active);
    info["isa_detected"] = exposure::isa_name(best);
    info["isa_available"] = available;
    info["tile"] = exposure::tile_shape(active);
    info["int8"] = exposure::int8_path();
#ifdef EXPOSURE_OPENMP
    info["openmp"] = true;
#else
    info["openmp"] = false;
#endif
    info["threads"] = exposure::default_threads();
    info["compiler"] = compiler();
    return info;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "Native similarity kernels for exposure (private; use exposure.kernels).";
    m.def("reduce", &reduce, py::arg("queries"), py::arg("keys"), py::arg("op") = "max", py::arg("k") = 0,
          py::arg("temperature") = 1.0f, py::arg("groups") = py::none(), py::arg("num_groups") = 1,
          py::arg("out") = py::none(), py::arg("threads") = 0, py::arg("block_rows") = 0,
          py::arg("precision") = "fp32", py::arg("candidates") = 0,
          "Similarities queries @ keys.T reduced per query (and group); returns (values, indices or None).");
    m.def("sparse_topk", &sparse_topk, py::arg("q_ptr"), py::arg("q_cols"), py::arg("q_weights"), py::arg("ptr"),
          py::arg("keys"), py::arg("weights"), py::arg("m"), py::arg("k"), py::arg("threads") = 0,
          "Per sparse query (CSR rows) the k keys of an inverted index with the largest dot product; returns "
          "(values, indices), descending, lower index first on ties, unscored keys at 0 last.");
    m.def("workspace_bytes", &workspace_bytes, py::arg("n"), py::arg("m"), py::arg("d"), py::arg("op") = "max",
          py::arg("k") = 0, py::arg("num_groups") = 1, py::arg("threads") = 0, py::arg("block_rows") = 0,
          py::arg("precision") = "fp32", py::arg("candidates") = 0,
          "Bytes reduce() with these sizes and settings allocates besides its results (packed keys, per-thread "
          "scratch), computed by the functions the kernel sizes its buffers with.");
    m.def("segment_sum", &segment_sum, py::arg("values"), py::arg("offsets"), py::arg("threads") = 0,
          "Row sums of a float32 matrix per segment of rows (CSR offsets), in float64, in row order.");
    py::class_<exposure::WordPiece>(m, "WordPiece",
                                    "BERT's tokenizer on ASCII texts (the ids of Hugging Face tokenizers'; private, "
                                    "see exposure._bert).")
        .def(py::init(&make_wordpiece), py::arg("vocab"), py::arg("prefix"), py::arg("unk"), py::arg("cls"),
             py::arg("sep"), py::arg("lowercase"), py::arg("max_word_chars"), py::arg("added"))
        .def("encode", &wordpiece_encode, py::arg("texts"), py::arg("max_length") = 0, py::arg("threads") = 0,
             "(ids, lengths, truncated, encoded) of a list of texts; those not encoded (not ASCII, or holding an "
             "added token) have length 0.");
    m.def("int8_path", &exposure::int8_path, "The precision='int8' micro-kernel in use: 'avx512_vnni' or 'scalar'.");
    m.def("build_info", &build_info, "The SIMD path in use, what the CPU supports, OpenMP and the compiler.");
    m.def(
        "set_isa", [](const std::string& name) { exposure::set_isa(exposure::parse_isa(name)); }, py::arg("isa"),
        "Force the SIMD path ('scalar', 'avx2', 'avx512'); refuses one the CPU cannot run.");
}
