// StepGradient::evaluate allocates no heap memory, for every sampler and path (issue 4).
//
// Eigen allocates its temporaries with malloc, not operator new, so this program counts malloc itself: it
// interposes glibc's allocation functions (forwarding to glibc's own, so free() stays valid) and counts calls
// while `counting` is set. operator new is counted too, since libstdc++'s calls malloc. A program of its own,
// because the interposition applies to the whole program; not built with sanitizers, which interpose malloc.

#include <gtest/gtest.h>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <string>

#include "science/model.hpp"
#include "science/samplers.hpp"

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
void count_one() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  count_one();
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  count_one();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, std::size_t size) {
  count_one();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  count_one();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** pointer, std::size_t alignment, std::size_t size) {
  count_one();
  *pointer = __libc_memalign(alignment, size);
  return *pointer == nullptr ? ENOMEM : 0;
}
}

namespace hetsweep::science {
namespace {

struct Case {
  const char* name;
  Algorithm algorithm;
  Sensing sensing;
  Sampler sampler;
  std::int64_t dim, batch_size;
};

// Every StepGradient and path, at small sizes and at the largest the benchmarks use.
const Case cases[] = {
    {"ExactHetero", Algorithm::hetero, Sensing::gaussian, Sampler::exact, 20, 1000},
    {"ExactPooled", Algorithm::pooled, Sensing::gaussian, Sampler::exact, 20, 1000},
    {"ExactHeteroLarge", Algorithm::hetero, Sensing::gaussian, Sampler::exact, 100, 5000},
    {"MaterializedHetero", Algorithm::hetero, Sensing::gaussian, Sampler::materialized, 20, 1000},
    {"MaterializedPooled", Algorithm::pooled, Sensing::gaussian, Sampler::materialized, 20, 1000},
    {"MaterializedHeteroLarge", Algorithm::hetero, Sensing::gaussian, Sampler::materialized, 100, 1000},
    {"RankOneHetero", Algorithm::hetero, Sensing::rank_one, Sampler::materialized, 20, 1000},
    {"RankOnePooled", Algorithm::pooled, Sensing::rank_one, Sampler::materialized, 20, 1000},
    {"RankOneHeteroLarge", Algorithm::hetero, Sensing::rank_one, Sampler::materialized, 100, 5000},
    {"HeteroGd", Algorithm::hetero_gd, Sensing::gaussian, Sampler::automatic, 20, 1000},
    {"PooledGdRankOne", Algorithm::pooled_gd, Sensing::rank_one, Sampler::automatic, 20, 1000},
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

class StepAllocations : public ::testing::TestWithParam<Case> {};

TEST_P(StepAllocations, EvaluateAllocatesNothingFromTheFirstStepOn) {
  const auto& c = GetParam();
  // Random basis, random schedule, three environments and noise: every optional branch of a step runs.
  Params p;
  p.dim = c.dim;
  p.batch_size = c.batch_size;
  p.environments = 3;
  p.heterogeneity = 2;
  p.noise = 0.5;
  p.basis = Basis::random;
  p.schedule = Schedule::random;
  p.algorithm = c.algorithm;
  p.sensing = c.sensing;
  p.sampler = c.sampler;
  const RandomStreams streams(3);
  const Model model(p, streams);
  const auto step_gradient = make_step_gradient(model, p, streams);
  const Matrix u = Matrix::Identity(c.dim, c.dim) * 0.5 + Matrix::Constant(c.dim, c.dim, 0.01);
  Matrix gradient(c.dim, c.dim);

  allocations = 0;
  counting = true;
  double loss = 0;
  for (std::int64_t step = 0; step < 3; ++step) loss += step_gradient->evaluate(u, step, gradient);
  counting = false;

  EXPECT_EQ(allocations.load(), 0) << c.name;
  EXPECT_TRUE(std::isfinite(loss));
}

INSTANTIATE_TEST_SUITE_P(EverySampler, StepAllocations, ::testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

// Where the counted allocations go, so the optimizer cannot drop them.
double* volatile escaped_new = nullptr;
const double* volatile escaped_matrix = nullptr;

// The counter itself works: a heap allocation while counting is seen, whether by new or by Eigen.
TEST(AllocationCounter, SeesOperatorNewAndEigenMatrices) {
  allocations = 0;
  counting = true;
  escaped_new = new double(1.0);
  const long after_new = allocations.load();
  const Matrix a = Matrix::Identity(50, 50);
  escaped_matrix = a.data();
  counting = false;
  delete escaped_new;
  EXPECT_GE(after_new, 1);
  EXPECT_GE(allocations.load(), after_new + 1);
}

}  // namespace
}  // namespace hetsweep::science
