#pragma once
// The instruction-set level the floating-point kernels of this build were compiled for.
//
// The model, samplers and simulation loop (model.cpp, samplers.cpp, simulate.cpp) are compiled twice: for
// baseline x86-64 (SSE2) and for x86-64-v3 (AVX2 + FMA), into two executables (see src/cli/isa_choice.hpp).
// Vector width and fused multiply-adds change how sums are rounded, so a run's result is a pure function of
// (parameters, seed, build, level); within one level it is the same on every CPU (fixed_product_blocking()).

#include <string>
#include <string_view>

namespace hetsweep::science {

inline constexpr std::string_view baseline_isa = "x86-64";
inline constexpr std::string_view v3_isa = "x86-64-v3";

// The level of the kernels linked into this executable: baseline_isa or v3_isa.
[[nodiscard]] std::string_view kernel_isa();

// What a results file records as the level of its results, and what resume, merge and the ranks of one
// sweep must agree on: kernel_isa(), plus "+openblas" in a HETSWEEP_BLAS=openblas build (OpenBLAS's kernels
// round products differently from Eigen's, so its results are never mixed with the default build's).
[[nodiscard]] std::string results_isa();

// Whether this CPU runs x86-64-v3 code (AVX, AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE).
[[nodiscard]] bool cpu_supports_v3();

// Eigen splits a matrix product into blocks sized from the cache sizes it reads from the CPU at run time,
// and the split decides the order of the sums (Eigen 3.4's gebp: the depth block kc from L1, the row blocks
// from L2/L3). Fixing the sizes it assumes makes a product's rounding the same on every CPU of a level.
// In a build with HETSWEEP_BLAS=openblas it also runs OpenBLAS on one thread (its core type, which decides
// its kernels, can only be pinned before it loads: OPENBLAS_CORETYPE). Idempotent and cheap; called before
// any product of a run.
void fixed_product_blocking();

}  // namespace hetsweep::science
