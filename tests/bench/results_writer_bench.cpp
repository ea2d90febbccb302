// How fast the master can record finished runs: outcomes with 100-record trajectories written into a file of
// 20,000 pending rows, flushed every N outcomes (Arg), the final flush and close included. The target is
// 20,000 results/s (items_per_second).

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

#include "science/run.hpp"
#include "spec/sweep_spec.hpp"
#include "store/results_file.hpp"

namespace {

using hetsweep::science::RowStatus;
using hetsweep::science::RunOutcome;
using hetsweep::store::OpenMode;
using hetsweep::store::ResultsWriter;

// 100 heterogeneities x 50 step sizes x 4 replicates = 20,000 runs, records at 0, 10, ..., 990.
constexpr const char* bench_spec = R"(name: writer-bench
fixed: {dim: 20, steps: 990, record_every: 10}
grid:
  heterogeneity: {start: 0.0, stop: 9.9, num: 100}
  step_size: {start: 0.001, stop: 0.05, num: 50}
replicates: 4
)";
constexpr std::int64_t runs = 20'000;

RunOutcome typical_outcome() {
  RunOutcome outcome;
  outcome.status = RowStatus::done;
  outcome.wall_seconds = 1.25;
  for (std::int64_t step = 0; step <= 990; step += 10) {
    const double x = static_cast<double>(step);
    outcome.result.records.push_back({step, {x, x + 1, x + 2, x + 3, x + 4}});
  }
  outcome.result.steps_done = 990;
  return outcome;
}

void WriteOutcomes(benchmark::State& state) {
  const auto flush_every = state.range(0);
  const auto spec = hetsweep::spec::parse_spec(bench_spec, "writer-bench.yaml");
  const auto path =
      std::filesystem::temp_directory_path() / ("hetsweep-writer-bench-" + std::to_string(::getpid()) + ".h5");
  auto outcome = typical_outcome();
  for (auto _ : state) {
    state.PauseTiming();
    std::optional<ResultsWriter> writer;
    writer.emplace(path, spec, OpenMode::restart);
    state.ResumeTiming();
    for (std::int64_t row = 0; row < runs; ++row) {
      outcome.row = row;
      writer->write(outcome);
      if ((row + 1) % flush_every == 0) writer->flush();
    }
    writer->close();
    state.PauseTiming();
    writer.reset();
    state.ResumeTiming();
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * runs);
}
BENCHMARK(WriteOutcomes)
    ->ArgName("flush_every")
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(runs)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
