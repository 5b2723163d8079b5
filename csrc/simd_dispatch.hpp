// @brief Picks the widest SIMD path this CPU runs (AVX-512, AVX2+FMA or scalar), once, at run time.
//
// The extension is compiled for baseline x86-64 so one wheel runs everywhere; the
// wide paths live in functions carrying their own target attributes and are only
// called after the CPU says it has the instructions. EXPOSURE_ISA=scalar|avx2|avx512
// (read at first use) or set_isa() forces a lower path, which is how the tests check
// that every path agrees with the reference on one machine.
#pragma once

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EXPOSURE_X86 1
#endif

namespace exposure {

enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2 };

inline const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512: return "avx512";
        case Isa::avx2: return "avx2";
        default: return "scalar";
    }
}

/// @brief The best path the hardware supports, ignoring any override.
inline Isa detect_isa() {
#ifdef EXPOSURE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return Isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
    return Isa::scalar;
}

/// @brief True when the CPU has AVX-512 VNNI (vpdpbusd) with BW/DQ/VL, which the fast int8 kernel needs.
inline bool detect_vnni() {
#ifdef EXPOSURE_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return false;
#endif
}

/// @brief Parses "scalar" / "avx2" / "avx512"; throws std::invalid_argument listing the valid names.
inline Isa parse_isa(const std::string& name) {
    if (name == "scalar") return Isa::scalar;
    if (name == "avx2") return Isa::avx2;
    if (name == "avx512") return Isa::avx512;
    throw std::invalid_argument("unknown ISA '" + name + "'; expected one of 'scalar', 'avx2', 'avx512'");
}

namespace detail {
// -1 means "not chosen yet"; an atomic so concurrent first calls agree without a lock.
inline std::atomic<int>& active_isa_slot() {
    static std::atomic<int> slot{-1};
    return slot;
}
}  // namespace detail

/// @brief Forces a path; refuses one the CPU cannot run, because that would crash with SIGILL.
inline void set_isa(Isa isa) {
    const Isa best = detect_isa();
    if (static_cast<int>(isa) > static_cast<int>(best)) {
        throw std::invalid_argument(std::string("this CPU cannot run the ") + isa_name(isa) +
                                    " path; the best it supports is " + isa_name(best));
    }
    detail::active_isa_slot().store(static_cast<int>(isa));
}

/// @brief The path in use: the override if set, else EXPOSURE_ISA, else the best detected.
inline Isa active_isa() {
    int current = detail::active_isa_slot().load();
    if (current >= 0) return static_cast<Isa>(current);
    Isa chosen = detect_isa();
    if (const char* env = std::getenv("EXPOSURE_ISA"); env != nullptr && *env != '\0') {
        Isa wanted;
        try {
            wanted = parse_isa(env);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(std::string("EXPOSURE_ISA: ") + e.what());
        }
        // An env var asking for more than the CPU has falls back instead of crashing the import.
        if (static_cast<int>(wanted) < static_cast<int>(chosen)) chosen = wanted;
    }
    int expected = -1;
    detail::active_isa_slot().compare_exchange_strong(expected, static_cast<int>(chosen));
    return static_cast<Isa>(detail::active_isa_slot().load());
}

}  // namespace exposure

namespace exposure {

/// @brief True when precision='int8' runs the VNNI kernel: the AVX-512 path is active and the CPU has VNNI.
inline bool use_vnni() { return active_isa() == Isa::avx512 && detect_vnni(); }

}  // namespace exposure
