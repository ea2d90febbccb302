#include "cli/merge_command.hpp"

#include <fmt/format.h>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"
#include "science/isa.hpp"
#include "spec/grid.hpp"
#include "spec/resume_policy.hpp"

namespace hetsweep::cli {
namespace {

namespace fs = std::filesystem;

struct MergeOptions {
  std::string output;
  std::vector<std::string> inputs;
  bool restart = false;
};

int run_merge(const MergeOptions& options) {
  std::optional<spec::SweepSpec> spec;
  std::vector<store::ResultsReader::FinishedRun> runs;
  for (const auto& input : options.inputs) {
    if (fs::exists(options.output) && fs::exists(input) && fs::equivalent(options.output, input)) {
      throw UsageError(fmt::format("{}: the output cannot also be an input", input));
    }
    const auto reader = open_results_or_usage_error(input);
    if (!spec) {
      spec = reader->spec();
    } else if (auto conflict = spec::resume_conflict(*spec, reader->spec())) {
      throw UsageError(fmt::format("{}: holds another sweep than {}: {}", input, options.inputs.front(), *conflict));
    } else if (auto reverse = spec::resume_conflict(reader->spec(), *spec)) {
      throw UsageError(fmt::format("{}: holds another sweep than {}: {}", input, options.inputs.front(), *reverse));
    }
    // The output records the level of this hetsweep's kernels, so that a resume adds results of that level.
    if (reader->isa() != science::results_isa()) {
      throw UsageError(fmt::format(
          "{}: holds results of {} kernels, and this hetsweep computes with {} kernels; merge "
          "with --isa {}",
          input, reader->isa(), science::results_isa(), reader->isa() == science::v3_isa ? "v3" : "baseline"));
    }
    auto finished = reader->finished_runs();
    runs.insert(runs.end(), std::make_move_iterator(finished.begin()), std::make_move_iterator(finished.end()));
  }

  const auto writer = open_writer_or_usage_error(options.output, *spec, options.restart);
  // A run's seed is a hash of its key under the sweep seed: it names the run in every file of the spec.
  std::map<std::uint64_t, std::int64_t> pending_row_of_seed;
  for (const auto& run : writer->pending()) pending_row_of_seed.emplace(run.seed, run.row);
  std::int64_t merged = 0, duplicates = 0;
  for (auto& run : runs) {
    // A refinement run that OUT does not list yet becomes a row of OUT first (a sharded sweep's refinement runs
    // differ between shards).
    if (run.origin == store::RowOrigin::refine && !writer->has_run(run.key)) {
      spec::RunPoint point;
      point.coords.assign(spec->axes.size(), -1);
      point.replicate = run.replicate;
      point.params = run.params;
      point.key = run.key;
      point.seed = spec::run_seed(spec->seed, run.key);
      const auto added = writer->append_runs(std::span(&point, 1));
      pending_row_of_seed.emplace(point.seed, added.front());
    }
    const auto row = pending_row_of_seed.find(spec::run_seed(spec->seed, run.key));
    if (row == pending_row_of_seed.end()) {
      ++duplicates;  // finished in OUT already, or in an earlier input
      continue;
    }
    run.outcome.row = row->second;
    writer->write(run.outcome);
    pending_row_of_seed.erase(row);
    ++merged;
  }
  writer->close();
  fmt::print(stderr, "hetsweep: merged {} runs from {} files into {} ({} already there, {} still pending)\n", merged,
             options.inputs.size(), options.output, duplicates, pending_row_of_seed.size());
  return exit_success;
}

}  // namespace

std::function<int()> add_merge_command(CLI::App& app) {
  auto options = std::make_shared<MergeOptions>();
  auto* command =
      app.add_subcommand("merge", "Combine results files of one sweep spec (e.g. --shard outputs) into one file");
  command
      ->add_option("output", options->output,
                   "the combined results file (created, or resumed if it holds the same sweep)")
      ->required();
  command->add_option("inputs", options->inputs, "results files of the same spec")->required();
  command->add_flag("--restart", options->restart, "replace an existing output file instead of adding to it");
  return [options] { return run_merge(*options); };
}

}  // namespace hetsweep::cli
