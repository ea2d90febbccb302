#include "cli/run_command.hpp"

#include <fmt/format.h>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"
#include "cli/shard.hpp"
#include "cli/spec_loading.hpp"
#include "cli/sweep_refinement.hpp"
#include "sched/console.hpp"
#include "sched/isa_agreement.hpp"
#include "sched/master.hpp"
#include "sched/stop_signals.hpp"
#include "science/isa.hpp"
#include "store/results_file.hpp"

namespace hetsweep::cli {
namespace {

struct RunOptions {
  std::string spec_path;
  std::string output;
  bool restart = false;
  bool retry_failed = false;
  std::string shard;
  std::string progress = "auto";
  std::optional<double> stall_timeout_seconds;
};

sched::Progress::Style progress_style(const std::string& name) {
  if (name == "bar") return sched::Progress::Style::bar;
  if (name == "lines") return sched::Progress::Style::lines;
  if (name == "none") return sched::Progress::Style::none;
  return sched::Progress::Style::automatic;
}

// With refinement, /boundary follows each flush, so that it never names a run whose result is not on disk.
class WriterSink final : public sched::ResultSink {
 public:
  WriterSink(store::ResultsWriter& writer, SweepRefinement* refinement) : writer_(writer), refinement_(refinement) {}
  void write(const sched::WorkResult& result) override { writer_.write(result.outcome); }
  void flush() override {
    writer_.flush();
    if (refinement_ != nullptr) refinement_->write_boundary();
  }
  void close() override {
    flush();
    writer_.close();
  }

 private:
  store::ResultsWriter& writer_;
  SweepRefinement* refinement_;
};

int run_master_rank(const RunOptions& options, const boost::mpi::communicator& world) {
  const auto started = std::chrono::steady_clock::now();
  sched::install_stop_handlers(world.size() == 1);
  const Shard shard = options.shard.empty() ? Shard{} : parse_shard(options.shard);
  const auto spec = load_spec_or_usage_error(options.spec_path);
  const auto writer = open_writer_or_usage_error(options.output, spec, options.restart, options.retry_failed);

  // With a refine block, the runs a result asks for join the sweep as it runs; a shard takes whole
  // combinations of the other axes (see SweepRefinement::in_shard), other sweeps' shards go by run seed.
  std::unique_ptr<SweepRefinement> refinement;
  std::vector<science::PendingRun> work;
  if (spec.refine) {
    refinement = std::make_unique<SweepRefinement>(spec, *writer, shard);
    work = refinement->initial_work();
  } else {
    for (auto& run : writer->pending()) {
      if (shard.contains(run.seed)) work.push_back(std::move(run));
    }
  }
  const auto total = shard.count == 1 ? writer->total_runs() : static_cast<std::int64_t>(work.size());
  const auto already_done = shard.count == 1 ? total - static_cast<std::int64_t>(work.size()) : 0;
  auto progress = sched::Progress::on_stderr(total, already_done, progress_style(options.progress));
  WriterSink sink(*writer, refinement.get());
  sched::MasterOptions master_options;
  master_options.stall_timeout_seconds = options.stall_timeout_seconds;
  if (refinement) {
    master_options.more_work = [&refinement](const sched::WorkResult& result) { return refinement->after(result); };
  }
  // Reported as soon as the file is closed: after a SIGTERM or SIGINT, mpirun may SIGKILL this process while
  // it waits for the workers' last batches.
  master_options.on_closed = [&](const sched::MasterReport& report) {
    const double cpu_seconds = static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
    const double wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    sched::tell(stderr, fmt::format("hetsweep: computed {} runs in this invocation{} in {:.2f} s; the master used "
                                    "{:.2f} CPU-s{}\n",
                                    report.computed,
                                    report.failed > 0 ? fmt::format(" ({} failed)", report.failed) : std::string(),
                                    wall_seconds, cpu_seconds, world.size() > 1 ? " (it waits without spinning)" : ""));
    if (refinement) {
      sched::tell(stderr, fmt::format("hetsweep: refinement added {} runs in this invocation; {} holds {} located "
                                      "crossing{}\n",
                                      refinement->added(), options.output, refinement->located(),
                                      refinement->located() == 1 ? "" : "s"));
    }
    if (report.stopped_early) {
      sched::tell(
          stderr,
          fmt::format("hetsweep: stopped by {}; {} is closed with every result received{}{}; run "
                      "the same command again to resume\n",
                      report.stop_reason, options.output,
                      report.dropped_held_runs ? " (the runs the workers held stay pending)" : "",
                      report.interrupted > 0
                          ? fmt::format(" ({} in progress or not begun {} pending)",
                                        report.interrupted == 1 ? "1 run" : fmt::format("{} runs", report.interrupted),
                                        report.interrupted == 1 ? "stays" : "stay")
                          : std::string()));
    }
  };
  sched::MasterReport report;
  try {
    // The sink is closed before on_closed reports, so that what is reported is on disk and a failure to close
    // is an error.
    report = sched::run_master(world, work, sink, progress, master_options);
  } catch (const std::exception& e) {
    throw SystemFailure(
        fmt::format("{}: writing results failed: {}\nThe results flushed before the failure are "
                    "kept: fix the cause (a full disk?) and run the same command to resume.",
                    options.output, e.what()));
  }
  return report.stopped_early ? exit_interrupted : exit_success;
}

int run_sweep(const RunOptions& options) {
  // A reader that went away (`run … | head`) must not end the sweep: failed writes are dropped instead.
  std::signal(SIGPIPE, SIG_IGN);
  boost::mpi::environment environment(boost::mpi::threading::single, /*abort_on_exception=*/false);
  boost::mpi::communicator world;
  const auto other_isa = sched::ranks_of_another_isa(world, hetsweep::science::results_isa());
  if (world.rank() != 0) {
    sched::ignore_stop_signals();
    sched::run_worker(world);
    return exit_success;
  }
  try {
    if (!other_isa.empty()) {
      throw UsageError(
          fmt::format("workers compute with kernels of another instruction-set level than the master "
                      "({}): {}; results of two levels are never mixed in one file: give every rank "
                      "the same --isa (baseline runs on every x86-64 CPU)",
                      hetsweep::science::results_isa(), fmt::join(other_isa, ", ")));
    }
    return run_master_rank(options, world);
  } catch (const UsageError&) {
    sched::release_workers(world);  // refused before any run was handed out: the workers are idle
    throw;
  } catch (const std::exception& e) {
    if (world.size() == 1) throw;
    // Workers may be mid-exchange with runs in hand: releasing them could wait forever, so end the job.
    sched::tell(stderr, fmt::format("hetsweep: {}\n", e.what()));
    world.abort(exit_failure);
    return exit_failure;  // MPI_Abort does not return; Boost does not declare it [[noreturn]]
  }
}

}  // namespace

std::function<int()> add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* command =
      app.add_subcommand("run", "Run (or resume) a sweep into one HDF5 file; under mpirun rank 0 is the master");
  command->add_option("spec", options->spec_path, "the sweep spec (YAML)")->required();
  command->add_option("-o,--output", options->output, "the results file (HDF5); resumed if it exists")->required();
  command->add_flag("--restart", options->restart, "replace an existing results file instead of resuming it");
  command->add_flag("--retry-failed", options->retry_failed,
                    "compute the runs that failed again (they are kept otherwise)");
  command->add_option("--shard", options->shard, "compute only the slice I of N of the runs (I/N, e.g. 0/4)");
  command
      ->add_option("--progress", options->progress,
                   "bar, lines (one every 10 s) or none; default: a bar when stderr (under mpirun, mpirun's) is a "
                   "terminal, lines otherwise")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
  command
      ->add_option("--stall-timeout", options->stall_timeout_seconds,
                   "stop (exit 3, resumable) when a worker holding work sends nothing for S seconds, or for 20 "
                   "times its batch's expected time if longer")
      ->check(CLI::PositiveNumber);
  return [options] { return run_sweep(*options); };
}

}  // namespace hetsweep::cli
