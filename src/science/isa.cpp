#include "science/isa.hpp"

#include <Eigen/Core>

#if defined(EIGEN_USE_BLAS)
extern "C" void openblas_set_num_threads(int num_threads);  // OpenBLAS's cblas.h
#endif

namespace hetsweep::science {

std::string_view kernel_isa() {
#if defined(__AVX2__) && defined(__FMA__)
  return v3_isa;
#else
  return baseline_isa;
#endif
}

std::string results_isa() {
#if defined(EIGEN_USE_BLAS)
  return std::string(kernel_isa()) + "+openblas";
#else
  return std::string(kernel_isa());
#endif
}

bool cpu_supports_v3() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("x86-64-v3");
#else
  return false;
#endif
}

void fixed_product_blocking() {
  // The sizes Eigen 3.4 reads on the project machine (an AMD EPYC VM), so that results computed there before
  // the sizes were fixed stay the same.
  constexpr std::ptrdiff_t l1 = 32 * 1024, l2 = 1024 * 1024, l3 = 320 * 1024 * 1024;
  Eigen::setCpuCacheSizes(l1, l2, l3);
#if defined(EIGEN_USE_BLAS)
  // OpenBLAS splits a product over its threads (rows of a GEMV, blocks of a GEMM), and the split changes the
  // rounding: one thread, whatever OPENBLAS_NUM_THREADS says.
  openblas_set_num_threads(1);
#endif
}

}  // namespace hetsweep::science
