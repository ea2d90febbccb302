// The science built with HETSWEEP_BLAS=openblas (EIGEN_USE_BLAS): Eigen hands its products to OpenBLAS,
// OpenBLAS runs the kernels of the core type it is given, and a run's result stays a pure function of its
// parameters and seed: the same twice, and the same whatever OpenBLAS's thread count (a run sets it to one).

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include "science/params.hpp"
#include "science/simulate.hpp"

// OpenBLAS's own entry points (cblas.h; the enums of cblas_dgemm are ints: 102 column major, 111 no transpose).
extern "C" {
char* openblas_get_corename(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
int openblas_get_parallel(void);
void cblas_dgemm(int order, int transa, int transb, int m, int n, int k, double alpha, const double* a, int lda,
                 const double* b, int ldb, double beta, double* c, int ldc);
}

namespace hetsweep::science {
namespace {

std::string lower(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Params run_params(std::int64_t dim, Sensing sensing) {
  Params p;
  p.dim = dim;
  p.sensing = sensing;
  p.heterogeneity = 6;
  p.step_size = sensing == Sensing::rank_one ? 0.2 / static_cast<double>(dim) : 0.05;  // one that converges
  p.steps = 40;
  return p;
}

// A product deep and wide enough that OpenBLAS would split it over threads (m n k above 65536 x 4).
TEST(OpenBlas, ComputesEigensProducts) {
  std::srand(1);
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(150, 120), b = Eigen::MatrixXd::Random(120, 90);
  const Eigen::MatrixXd by_eigen = a * b;
  Eigen::MatrixXd by_openblas(150, 90);
  cblas_dgemm(102, 111, 111, 150, 90, 120, 1.0, a.data(), 150, b.data(), 120, 0.0, by_openblas.data(), 150);
  EXPECT_EQ(by_eigen, by_openblas);
  EXPECT_NE(by_eigen, a.lazyProduct(b)) << "Eigen's own kernel rounds like OpenBLAS's: the test shows nothing";
}

TEST(OpenBlas, RunsTheKernelsOfTheCoreTypeItIsGiven) {
  const char* wanted = std::getenv("OPENBLAS_CORETYPE");
  if (wanted == nullptr) GTEST_SKIP() << "OPENBLAS_CORETYPE is not set";
  EXPECT_EQ(lower(openblas_get_corename()), lower(wanted));
}

TEST(OpenBlas, GivesARunTheSameResultTwice) {
  for (const auto& p : {run_params(100, Sensing::gaussian), run_params(20, Sensing::rank_one)}) {
    openblas_set_num_threads(1);
    EXPECT_EQ(simulate(p, 5), simulate(p, 5)) << "d = " << p.dim;
  }
}

// Why a run pins OpenBLAS to one thread (fixed_product_blocking): two threads split a product differently.
TEST(OpenBlas, TwoThreadsChangeAProductsRounding) {
  if (openblas_get_parallel() == 0) GTEST_SKIP() << "a single-threaded OpenBLAS";
  std::srand(1);
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(100, 409), b = Eigen::MatrixXd::Random(409, 100);
  openblas_set_num_threads(1);
  const Eigen::MatrixXd one_thread = a * b;
  openblas_set_num_threads(2);
  const Eigen::MatrixXd two_threads = a * b;
  openblas_set_num_threads(1);
  EXPECT_NE(one_thread, two_threads);
  EXPECT_LT((one_thread - two_threads).norm(), 1e-12 * one_thread.norm());
}

TEST(OpenBlas, GivesARunTheSameResultWhateverItsThreadCount) {
  for (const auto& p : {run_params(200, Sensing::gaussian), run_params(100, Sensing::rank_one)}) {
    openblas_set_num_threads(1);
    const RunResult one_thread = simulate(p, 5);
    openblas_set_num_threads(2);
    const RunResult two_threads = simulate(p, 5);
    EXPECT_EQ(openblas_get_num_threads(), 1);
    EXPECT_EQ(one_thread.status, RunStatus::done);
    EXPECT_EQ(one_thread, two_threads) << "d = " << p.dim;
  }
}

}  // namespace
}  // namespace hetsweep::science
