// One training step of each sampler over d x m, and the parts it is measured against (issue 4): the
// normals a materialized step draws, drawn alone, and the matrix products of an exact step alone. Every
// step benchmark reports items_per_second = steps/s. Run with OPENBLAS_NUM_THREADS=1 (one core per run).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "science/model.hpp"
#include "science/random.hpp"
#include "science/samplers.hpp"
#include "science/simulate.hpp"

namespace {

using namespace hetsweep::science;

Params step_params(std::int64_t dim, std::int64_t batch_size, Algorithm algorithm, Sensing sensing, Sampler sampler) {
  Params p;
  p.dim = dim;
  p.batch_size = batch_size;
  p.heterogeneity = 6;
  p.algorithm = algorithm;
  p.sensing = sensing;
  p.sampler = sampler;
  return p;
}

// A generic U (dense, full rank, entries of order one), so no product meets special structure.
Matrix generic_factor(Eigen::Index d, const RandomStreams& streams) {
  Matrix g(d, d);
  streams.normals(Purpose::initialization, 0, {g.data(), static_cast<std::size_t>(g.size())});
  return Matrix::Identity(d, d) * 0.5 + g / std::sqrt(static_cast<double>(d));
}

std::int64_t packed_size(std::int64_t d) { return d * (d + 1) / 2; }

// Consecutive steps, each a fresh batch, as in a run.
void Step(benchmark::State& state, Algorithm algorithm, Sensing sensing, Sampler sampler) {
  const auto p = step_params(state.range(0), state.range(1), algorithm, sensing, sampler);
  const RandomStreams streams(1);
  const Model model(p, streams);
  const auto step_gradient = make_step_gradient(model, p, streams);
  const Matrix u = generic_factor(p.dim, streams);
  Matrix gradient(u.rows(), u.cols());
  std::int64_t step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(step_gradient->evaluate(u, step++, gradient));
  state.SetItemsProcessed(state.iterations());
}

// Whole runs of 200 steps (metrics every 10), per step: the step plus the loop around it (the update, the
// divergence check, the records).
void RunPerStep(benchmark::State& state, Algorithm algorithm) {
  auto p = step_params(state.range(0), state.range(1), algorithm, Sensing::gaussian, Sampler::exact);
  p.steps = 200;
  std::uint64_t seed = 1;
  for (auto _ : state) benchmark::DoNotOptimize(simulate(p, seed++));
  state.SetItemsProcessed(state.iterations() * p.steps);
}

// The m d(d+1)/2 sensing normals of one materialized Gaussian step alone, drawn in blocks as the step does.
void MaterializedNormalsAlone(benchmark::State& state) {
  const std::int64_t count = state.range(1) * packed_size(state.range(0));
  std::vector<double> block(static_cast<std::size_t>(std::min<std::int64_t>(count, 4096)));
  const RandomStreams streams(1);
  std::uint64_t step = 0;
  for (auto _ : state) {
    auto normals = streams.variates(Purpose::sensing, step++);
    for (std::int64_t drawn = 0; drawn < count; drawn += static_cast<std::int64_t>(block.size())) {
      normals.fill_normals(std::span(block).first(
          static_cast<std::size_t>(std::min<std::int64_t>(count - drawn, static_cast<std::int64_t>(block.size())))));
      benchmark::DoNotOptimize(block.data());
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["seconds_per_normal"] = benchmark::Counter(
      static_cast<double>(count), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The two d x d x d products of an exact step alone: X = U U^T and the gradient (2/m) S U.
void ExactMatrixProductsAlone(benchmark::State& state) {
  const auto d = state.range(0);
  const RandomStreams streams(1);
  const Matrix u = generic_factor(d, streams);
  Matrix x(d, d), s = u + u.transpose(), gradient(d, d);
  for (auto _ : state) {
    x.noalias() = u * u.transpose();
    gradient.noalias() = (2.0 / 1000.0) * s * u;
    benchmark::DoNotOptimize(x.data());
    benchmark::DoNotOptimize(gradient.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// The draws an exact hetero step cannot do without, alone: the d(d+1)/2 normals of its complement part
// (its Wishart draw, one chi-square for hetero, is a few words more).
void ExactComplementNormalsAlone(benchmark::State& state) {
  std::vector<double> complement(static_cast<std::size_t>(packed_size(state.range(0))));
  const RandomStreams streams(1);
  std::uint64_t step = 0;
  for (auto _ : state) {
    streams.normals(Purpose::complement, step++, complement);
    benchmark::DoNotOptimize(complement.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// What an exact pooled step adds for its environments: the counts n_e of m environments drawn per sample.
void PooledEnvironmentCountsAlone(benchmark::State& state) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(state.range(0)));
  const RandomStreams streams(1);
  std::uint64_t step = 0;
  for (auto _ : state) {
    streams.count_uniform_indices(Purpose::sample_environment, step++, state.range(1), counts);
    benchmark::DoNotOptimize(counts.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// Philox4x32-10 words per second, per kernel: the bits under every normal.
void PhiloxWords(benchmark::State& state, PhiloxKernel kernel) {
  if (!philox_kernel_supported(kernel)) {
    state.SkipWithError("this CPU lacks the kernel's instructions");
    return;
  }
  std::vector<std::uint64_t> words(256);
  std::uint32_t first = 0;
  for (auto _ : state) {
    philox_blocks(kernel, {1, 2}, {3, 4, 5}, first, words);
    first += 128;
    benchmark::DoNotOptimize(words.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(words.size()));
}

// d in {10, 20, 50, 100} x m in {80, 1000, 5000}, and d = 200 at m = 1000 (where a BLAS could pay), without
// the materialized Gaussian steps over 10^7 normals (d = 100, m = 5000: about 90 ms a step).
void Grid(benchmark::internal::Benchmark* b, bool materialized_gaussian) {
  for (std::int64_t d : {10, 20, 50, 100}) {
    for (std::int64_t m : {80, 1000, 5000}) {
      if (materialized_gaussian && m * packed_size(d) > 10'000'000) continue;
      b->Args({d, m});
    }
  }
  if (!materialized_gaussian) b->Args({200, 1000});
  b->ArgNames({"d", "m"});
}

void AllSizes(benchmark::internal::Benchmark* b) { Grid(b, false); }
void MaterializedSizes(benchmark::internal::Benchmark* b) { Grid(b, true); }

BENCHMARK_CAPTURE(Step, exact_hetero, Algorithm::hetero, Sensing::gaussian, Sampler::exact)->Apply(AllSizes);
BENCHMARK_CAPTURE(Step, materialized_hetero, Algorithm::hetero, Sensing::gaussian, Sampler::materialized)
    ->Apply(MaterializedSizes)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(Step, rank_one_hetero, Algorithm::hetero, Sensing::rank_one, Sampler::materialized)
    ->Apply(AllSizes)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(Step, exact_pooled, Algorithm::pooled, Sensing::gaussian, Sampler::exact)->Args({20, 1000});
BENCHMARK_CAPTURE(Step, materialized_pooled, Algorithm::pooled, Sensing::gaussian, Sampler::materialized)
    ->Args({20, 1000})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(Step, rank_one_pooled, Algorithm::pooled, Sensing::rank_one, Sampler::materialized)
    ->Args({20, 1000})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(RunPerStep, exact_hetero, Algorithm::hetero)->Args({20, 1000})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(RunPerStep, exact_pooled, Algorithm::pooled)->Args({20, 1000})->Unit(benchmark::kMillisecond);
BENCHMARK(MaterializedNormalsAlone)->Apply(MaterializedSizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(ExactMatrixProductsAlone)->ArgName("d")->Arg(10)->Arg(20)->Arg(50)->Arg(100)->Arg(200);
BENCHMARK(ExactComplementNormalsAlone)->ArgName("d")->Arg(10)->Arg(20)->Arg(50)->Arg(100);
BENCHMARK(PooledEnvironmentCountsAlone)->ArgNames({"K", "m"})->Args({2, 1000});
BENCHMARK_CAPTURE(PhiloxWords, portable, PhiloxKernel::portable);
BENCHMARK_CAPTURE(PhiloxWords, avx2, PhiloxKernel::avx2);
BENCHMARK_CAPTURE(PhiloxWords, avx512, PhiloxKernel::avx512);

}  // namespace
