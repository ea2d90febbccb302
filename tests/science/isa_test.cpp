#include "science/isa.hpp"

#include <gtest/gtest.h>

#include <Eigen/Core>

#include "science/model.hpp"

namespace hetsweep::science {
namespace {

// A product deep enough (as the rank-one sampler's blocks of rows: 819 at d = 10) for Eigen 3.4 to split
// its depth in two on a 32 KiB L1 (baseline: blocks of at most 504) but not on a 48 KiB one (760).
Matrix deep_product() {
  const Matrix a = Matrix::Random(20, 700), b = Matrix::Random(700, 20);
  return a * b;
}

TEST(KernelIsa, IsOneOfTheTwoLevels) {
  EXPECT_TRUE(kernel_isa() == baseline_isa || kernel_isa() == v3_isa) << kernel_isa();
}

TEST(ResultsIsa, NamesOpenBlasOnlyInABuildWithIt) {
#if defined(EIGEN_USE_BLAS)
  EXPECT_EQ(results_isa(), std::string(kernel_isa()) + "+openblas");
#else
  EXPECT_EQ(results_isa(), kernel_isa());
#endif
}

TEST(FixedProductBlocking, SetsTheSameCacheSizesWhateverEigenRead) {
  Eigen::setCpuCacheSizes(48 * 1024, 2 * 1024 * 1024, 16 * 1024 * 1024);  // an Intel core's
  fixed_product_blocking();
  EXPECT_EQ(Eigen::l1CacheSize(), 32 * 1024);
  EXPECT_EQ(Eigen::l2CacheSize(), 1024 * 1024);
  EXPECT_EQ(Eigen::l3CacheSize(), 320 * 1024 * 1024);
}

// Why the sizes are fixed: the L1 size Eigen reads changes the rounding of a product.
TEST(FixedProductBlocking, IsNeededBecauseTheL1SizeChangesAProductsRounding) {
  std::srand(1);
  Eigen::setCpuCacheSizes(48 * 1024, 1024 * 1024, 320 * 1024 * 1024);
  const Matrix large_l1 = deep_product();
  std::srand(1);
  fixed_product_blocking();
  const Matrix fixed = deep_product();
  EXPECT_NE(large_l1, fixed);
  EXPECT_LT((large_l1 - fixed).norm(), 1e-12 * fixed.norm());
}

TEST(FixedProductBlocking, IsInForceOnceAModelIsMade) {
  Eigen::setCpuCacheSizes(48 * 1024, 2 * 1024 * 1024, 16 * 1024 * 1024);
  const RandomStreams streams(1);
  const Model model(Params{}, streams);
  EXPECT_EQ(Eigen::l1CacheSize(), 32 * 1024);
}

}  // namespace
}  // namespace hetsweep::science
