#include "cli/verify_command.hpp"

#include <fmt/format.h>
#include <charconv>
#include <memory>
#include <string>

#include "cli/boundary_check.hpp"
#include "cli/exit_codes.hpp"
#include "spec/sweep_spec.hpp"
#include "store/results_file.hpp"
#include "store/verify.hpp"

namespace hetsweep::cli {
namespace {

struct VerifyOptions {
  std::string path;
  std::string recompute = "0";
  std::string seed = "0";
};

// "all", or a count of runs.
std::int64_t recompute_count(const std::string& text) {
  if (text == "all") return store::recompute_all;
  std::int64_t count = -1;
  const auto* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, count);
  if (error != std::errc() || stop != end || count < 0) {
    throw UsageError(fmt::format("--recompute: \"{}\" is neither a count of runs (0 or more) nor `all`", text));
  }
  return count;
}

int run_verify(const VerifyOptions& options) {
  store::VerifyOptions verify_options;
  verify_options.recompute = recompute_count(options.recompute);
  try {
    verify_options.seed = spec::parse_seed_text(options.seed, "--seed");
  } catch (const spec::SpecError& e) {
    throw UsageError(fmt::format("--seed: {}", e.reason()));
  }
  store::VerifyReport report;
  BoundaryCheck boundary;
  try {
    report = store::verify(options.path, verify_options);
    // Only for a file whose rows passed: the bisection trusts what it is fed.
    if (report.clean()) boundary = check_boundary(store::ResultsReader(options.path));
  } catch (const store::ResultsFileError& e) {
    throw UsageError(e.what());
  }
  report.problem_count += static_cast<std::int64_t>(boundary.problems.size());
  report.problems.insert(report.problems.end(), boundary.problems.begin(), boundary.problems.end());
  fmt::print("{}: format {}, written by hetsweep {}; {} runs, {} finished\n", options.path, report.format,
             report.writer_version.empty() ? "(unknown version)" : report.writer_version, report.rows, report.finished);
  fmt::print(
      "checked: the layout, {}, /runs against the spec, statuses, final metrics against the trajectories, the "
      "trajectories, the cube against /runs\n",
      report.format == "hetsweep-1" ? "every value read (hetsweep-1 files have no checksums)"
                                    : "every chunk's checksum");
  if (verify_options.recompute != 0) {
    fmt::print(
        "recomputed {} finished runs (chosen with --seed {}) with hetsweep {}; a run's results are a pure "
        "function of its parameters, seed and build, so a file from another build may differ there without "
        "being damaged\n",
        report.recomputed, verify_options.seed, report.verifier_version);
  }
  if (boundary.applies) {
    fmt::print("checked: /boundary's {} crossings against those the finished runs imply (the bisection run again)\n",
               boundary.stored);
    if (boundary.missing > 0) {
      fmt::print(
          "note: the finished runs locate {} crossing{} /boundary does not hold yet (a sweep stopped between a "
          "result and its /boundary); `hetsweep run` on the file writes them\n",
          boundary.missing, boundary.missing == 1 ? "" : "s");
    }
  }
  if (report.clean()) {
    fmt::print("{}: OK, no problem found\n", options.path);
    return exit_success;
  }
  for (const auto& line : report.problems) fmt::print("  {}\n", line);
  fmt::print("{}: {} problem{} found\n", options.path, report.problem_count, report.problem_count == 1 ? "" : "s");
  return exit_failure;
}

}  // namespace

std::function<int()> add_verify_command(CLI::App& app) {
  auto options = std::make_shared<VerifyOptions>();
  auto* command = app.add_subcommand(
      "verify",
      "Check a results file completely: layout, checksums, rows, trajectories, cube; optionally recompute runs");
  command->add_option("results", options->path, "the results file (HDF5)")->required();
  command
      ->add_option("--recompute", options->recompute,
                   "compute this many finished runs again (or `all`) and compare them bit for bit")
      ->capture_default_str();
  command->add_option("--seed", options->seed, "chooses the runs to recompute, 0 to 18446744073709551615")
      ->capture_default_str();
  return [options] { return run_verify(*options); };
}

}  // namespace hetsweep::cli
