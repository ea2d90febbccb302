#include "cli/merge_command.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"
#include "cli/sweep_refinement.hpp"
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
  // Every input is opened, and its rows checked, before the output is touched.
  std::optional<spec::SweepSpec> spec;
  std::vector<std::unique_ptr<store::ResultsReader>> readers;
  for (const auto& input : options.inputs) {
    if (fs::exists(options.output) && fs::exists(input) && fs::equivalent(options.output, input)) {
      throw UsageError(fmt::format("{}: the output cannot also be an input", input));
    }
    auto reader = open_results_or_usage_error(input);
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
    readers.push_back(std::move(reader));
  }

  const auto writer = open_writer_or_usage_error(options.output, *spec, options.restart);
  // A run's key names it in every file of the spec (its seed is a hash of the key under the sweep seed). The
  // pending rows, sorted by key: each input's finished runs are streamed through, the writer writing them in
  // batches.
  auto pending = writer->pending_keys();
  std::sort(pending.begin(), pending.end());
  std::vector<bool> taken(pending.size(), false);
  std::int64_t merged = 0, duplicates = 0, still_pending = static_cast<std::int64_t>(pending.size());
  const auto merge_run = [&](store::ResultsReader::FinishedRun& run) {
    // A refinement run that OUT does not list yet becomes a row of OUT first (a sharded sweep's refinement
    // runs differ between shards).
    if (run.origin == store::RowOrigin::refine && !writer->has_run(run.key)) {
      spec::RunPoint point;
      point.coords.assign(spec->axes.size(), -1);
      point.replicate = run.replicate;
      point.params = run.params;
      point.key = run.key;
      point.seed = spec::run_seed(spec->seed, run.key);
      run.outcome.row = writer->append_runs(std::span(&point, 1)).front();
      writer->write(run.outcome);
      ++merged;
      return;
    }
    const auto found = std::lower_bound(pending.begin(), pending.end(), std::pair{run.key, std::int64_t{0}});
    const auto at = static_cast<std::size_t>(found - pending.begin());
    if (found == pending.end() || found->first != run.key || taken[at]) {
      ++duplicates;  // finished in OUT already, or in an earlier input
      return;
    }
    run.outcome.row = found->second;
    writer->write(run.outcome);
    taken[at] = true;
    ++merged;
    --still_pending;
  };
  for (const auto& reader : readers) reader->visit_finished_runs(merge_run);
  // Each shard located the crossings of its own combinations: /boundary is what the merged results locate.
  std::string boundary;
  if (spec->refine) {
    writer->flush();
    const auto located = crossings_located_by_rows(*spec, *writer);
    writer->write_boundary(located);
    boundary = fmt::format("; /boundary holds {} located crossings", located.size());
  }
  writer->close();
  fmt::print(stderr, "hetsweep: merged {} runs from {} files into {} ({} already there, {} still pending){}\n", merged,
             options.inputs.size(), options.output, duplicates, still_pending, boundary);
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
