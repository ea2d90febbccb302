#include "sched/master.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "sched/stop_signals.hpp"

namespace hetsweep::sched {
namespace {

namespace mpi = boost::mpi;

std::vector<science::PendingRun> small_runs(int n) {
  std::vector<science::PendingRun> work;
  for (int i = 0; i < n; ++i) {
    science::Params p;
    p.dim = 6;
    p.batch_size = 20;
    p.steps = 30;
    p.heterogeneity = 0.1 * i;
    work.push_back({100 + i, p, static_cast<std::uint64_t>(i)});
  }
  return work;
}

class RecordingSink : public ResultSink {
 public:
  std::map<std::int64_t, science::RunOutcome> by_row;
  int duplicates = 0;
  int flushes = 0;
  int closes = 0;
  bool closed = false;
  int writes_after_close = 0;
  std::function<void()> after_write;
  void write(const WorkResult& r) override {
    writes_after_close += closed ? 1 : 0;
    duplicates += by_row.count(r.outcome.row) > 0 ? 1 : 0;
    by_row[r.outcome.row] = r.outcome;
    if (after_write) after_write();
  }
  void flush() override {
    ++flushes;
    writes_after_close += closed ? 1 : 0;
  }
  void close() override {
    ++closes;
    closed = true;
  }
};

Progress quiet_progress(std::int64_t total) {
  static std::FILE* null_file = std::fopen("/dev/null", "w");
  return Progress(null_file, false, total, 0, [] { return 0.0; });
}

using MoreWork = std::function<std::vector<science::PendingRun>(const WorkResult&)>;

// Collective: rank 0 masters, the others work. Progress goes to `progress` when given, nowhere otherwise.
MasterReport run_collectively(const std::vector<science::PendingRun>& work, RecordingSink& sink,
                              std::function<void(const MasterReport&)> on_closed = nullptr,
                              MoreWork more_work = nullptr, Progress* progress = nullptr) {
  mpi::communicator world;
  if (world.rank() != 0) {
    run_worker(world);
    return {};
  }
  auto quiet = quiet_progress(static_cast<std::int64_t>(work.size()));
  sink.closed = false;
  MasterOptions options;
  options.flush_interval_seconds = 0.0;
  options.batch_target_seconds = 0.002;
  options.on_closed = std::move(on_closed);
  options.more_work = std::move(more_work);
  return run_master(world, work, sink, progress != nullptr ? *progress : quiet, options);
}

// The work `sink` has no result for, as a resumed sweep would hand it out (on rank 0; nothing elsewhere).
std::vector<science::PendingRun> unfinished(const std::vector<science::PendingRun>& work, const RecordingSink& sink) {
  std::vector<science::PendingRun> rest;
  if (mpi::communicator().rank() != 0) return rest;
  for (const auto& item : work) {
    if (sink.by_row.count(item.row) == 0) rest.push_back(item);
  }
  return rest;
}

// The rest of `work`, handed out as a resumed sweep would, completes the set in `sink` without duplicates.
void expect_resume_completes(const std::vector<science::PendingRun>& work, RecordingSink& sink) {
  sink.after_write = nullptr;
  const auto second = run_collectively(unfinished(work, sink), sink);
  if (mpi::communicator().rank() == 0) {
    EXPECT_FALSE(second.stopped_early);
    EXPECT_EQ(sink.by_row.size(), work.size());
    EXPECT_EQ(sink.duplicates, 0);
  }
}

TEST(RunMaster, ComputesEveryRunOnceWithTheSameResultAsAlone) {
  const auto work = small_runs(40);
  RecordingSink sink;
  const auto report = run_collectively(work, sink);
  if (mpi::communicator().rank() != 0) return;
  EXPECT_EQ(report.computed, 40);
  EXPECT_FALSE(report.stopped_early);
  EXPECT_EQ(sink.duplicates, 0);
  ASSERT_EQ(sink.by_row.size(), 40u);
  for (const auto& item : work) {
    const auto& got = sink.by_row.at(item.row);
    EXPECT_EQ(got.result, science::simulate(item.params, item.seed)) << item.row;
    EXPECT_EQ(got.status, science::RowStatus::done);
  }
  EXPECT_GE(sink.flushes, 1);
  EXPECT_EQ(sink.closes, 1);
  EXPECT_EQ(sink.writes_after_close, 0);
}

TEST(RunMaster, StopsHandingOutWorkOnSignalAndFinishesWhatWorkersHold) {
  const auto work = small_runs(60);
  RecordingSink sink;
  mpi::communicator world;
  if (world.rank() == 0) {
    install_stop_handlers(world.size() == 1);
    sink.after_write = [&] {
      if (sink.by_row.size() == 3) std::raise(SIGUSR1);
    };
  }
  const auto report = run_collectively(work, sink);
  if (world.rank() == 0) {
    EXPECT_TRUE(report.stopped_early);
    EXPECT_EQ(stop_signal(), SIGUSR1);
    EXPECT_LT(report.computed, 60);
    EXPECT_EQ(report.computed, static_cast<std::int64_t>(sink.by_row.size()));
    EXPECT_EQ(sink.duplicates, 0);
    reset_stop_request();
    std::signal(SIGUSR1, SIG_DFL);
  }
  expect_resume_completes(work, sink);
}

// mpirun answers SIGTERM or SIGINT by sending every rank SIGTERM and SIGKILL a second later: the master
// closes the sink at once, before the workers return the runs they hold, and reports then.
TEST(RunMaster, ClosesTheSinkAtOnceOnSigtermAndLeavesTheHeldRunsPending) {
  const auto work = small_runs(60);
  RecordingSink sink;
  mpi::communicator world;
  if (world.rank() == 0) {
    install_stop_handlers(world.size() == 1);
    sink.after_write = [&] {
      if (sink.by_row.size() == 3) std::raise(SIGTERM);
    };
  }
  int reports = 0;
  std::size_t written_when_closed = 0;
  const auto report = run_collectively(work, sink, [&](const MasterReport& r) {
    ++reports;
    written_when_closed = sink.by_row.size();
    EXPECT_TRUE(sink.closed);
    EXPECT_TRUE(r.stopped_early);
  });
  if (world.rank() == 0) {
    EXPECT_EQ(reports, 1);
    EXPECT_TRUE(report.stopped_early);
    EXPECT_EQ(stop_signal(), SIGTERM);
    EXPECT_EQ(sink.closes, 1);
    EXPECT_EQ(sink.writes_after_close, 0);
    EXPECT_EQ(written_when_closed, sink.by_row.size());
    EXPECT_EQ(report.computed, static_cast<std::int64_t>(sink.by_row.size()));
    EXPECT_LT(report.computed, 60);
    reset_stop_request();
    std::signal(SIGTERM, SIG_DFL);
  }
  expect_resume_completes(work, sink);
}

// One short run, then one far too long to wait for (10^9 steps: about half an hour here).
std::vector<science::PendingRun> short_then_endless() {
  auto work = small_runs(1);
  science::Params endless;
  endless.dim = 6;
  endless.batch_size = 20;
  endless.steps = 1'000'000'000;
  endless.record_every = endless.steps;
  work.push_back({200, endless, 7});
  return work;
}

// A stop does not wait for the runs in progress: the endless run is interrupted midway and handed back
// unfinished, so it is never written and stays pending; the short run before it is written. With workers the
// signal comes once the short run is written, when the endless run, sent to a worker before, has begun (a
// worker takes its messages in order, so it starts the endless run before it sees the interrupt); alone, the
// master stops before starting it.
TEST(RunMaster, InterruptsTheRunsInProgressOnSignalAndLeavesThemPending) {
  mpi::communicator world;
  const auto work = short_then_endless();
  for (const int signal : {SIGUSR1, SIGTERM}) {
    RecordingSink sink;
    if (world.rank() == 0) {
      install_stop_handlers(world.size() == 1);
      sink.after_write = [&] { std::raise(signal); };
    }
    const auto report = run_collectively(work, sink);
    if (world.rank() != 0) continue;
    EXPECT_TRUE(report.stopped_early) << signal;
    EXPECT_EQ(stop_signal(), signal);
    EXPECT_EQ(sink.by_row.count(100), 1u) << signal;
    EXPECT_EQ(sink.by_row.count(200), 0u) << signal;
    EXPECT_EQ(report.computed, 1) << signal;
    EXPECT_EQ(report.interrupted, world.size() > 1 ? 1 : 0) << signal;
    EXPECT_EQ(sink.closes, 1);
    EXPECT_EQ(sink.writes_after_close, 0);
    reset_stop_request();
    std::signal(signal, SIG_DFL);
  }
}

// Whether every rank of `world` reaches this call within `seconds`: a non-blocking barrier polled against a
// deadline, so that a rank stuck (a worker never released) fails a test instead of hanging it.
bool all_ranks_arrive_within(const mpi::communicator& world, double seconds) {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Ibarrier(world, &request);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int arrived = 0;
  while (MPI_Test(&request, &arrived, MPI_STATUS_IGNORE) == MPI_SUCCESS && arrived == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return arrived != 0;
}

TEST(RunMaster, ReleasesWorkersWhenThereIsNoWork) {
  RecordingSink sink;
  mpi::communicator world;
  const auto report = run_collectively({}, sink);
  // A worker not released stays in run_worker and never reaches the barrier; the job is then ended, since
  // the pending barrier would hang it.
  constexpr double deadline_seconds = 30.0;
  if (!all_ranks_arrive_within(world, deadline_seconds)) {
    ADD_FAILURE() << "a worker was not released within " << deadline_seconds << " s";
    std::fflush(stdout);
    world.abort(1);
  }
  if (world.rank() != 0) return;
  EXPECT_EQ(report.computed, 0);
  EXPECT_FALSE(report.stopped_early);
  EXPECT_TRUE(sink.by_row.empty());
  EXPECT_EQ(sink.closes, 1);
}

// A run `generations` steps down a chain: each result of a run of `item`'s chain asks for the next (as
// bisection does), the row and seed moved on by 1000 per step.
science::PendingRun next_in_chain(const science::PendingRun& item) {
  auto next = item;
  next.row += 1000;
  next.seed += 1000;
  next.params.heterogeneity += 0.01;
  return next;
}

// Every run the chains starting at `first` make, `length` runs per chain.
std::vector<science::PendingRun> whole_chains(const std::vector<science::PendingRun>& first, int length) {
  std::vector<science::PendingRun> all;
  for (auto item : first) {
    for (int i = 0; i < length; ++i, item = next_in_chain(item)) all.push_back(item);
  }
  return all;
}

// The hook of chains of `length` runs over `work`: a result of a run before the last of its chain asks for
// the next run. Keeps the runs it handed out in `added`.
MoreWork chain_hook(const std::vector<science::PendingRun>& work, int length,
                    std::map<std::int64_t, science::PendingRun>& added) {
  std::map<std::int64_t, science::PendingRun> by_row;
  for (const auto& item : whole_chains(work, length)) by_row[item.row] = item;
  const auto last_generation_row = static_cast<std::int64_t>(1000 * (length - 1));
  return [by_row, last_generation_row, &added](const WorkResult& result) {
    std::vector<science::PendingRun> more;
    const auto& item = by_row.at(result.outcome.row);
    if (item.row - 100 < last_generation_row) {
      more.push_back(next_in_chain(item));
      added[more.back().row] = more.back();
    }
    return more;
  };
}

TEST(RunMaster, ComputesTheRunsThatResultsAddUntilNoneIsAdded) {
  const auto work = small_runs(5);
  constexpr int length = 4;
  RecordingSink sink;
  std::map<std::int64_t, science::PendingRun> added;
  char* text = nullptr;
  std::size_t text_size = 0;
  std::FILE* progress_file = open_memstream(&text, &text_size);
  Progress progress(progress_file, false, static_cast<std::int64_t>(work.size()), 0, [] { return 0.0; });
  const auto report = run_collectively(work, sink, nullptr, chain_hook(work, length, added), &progress);
  std::fclose(progress_file);
  const std::string printed(text, text_size);
  std::free(text);
  if (mpi::communicator().rank() != 0) return;
  const auto all = whole_chains(work, length);
  EXPECT_EQ(report.computed, static_cast<std::int64_t>(all.size()));
  EXPECT_FALSE(report.stopped_early);
  EXPECT_EQ(sink.duplicates, 0);
  EXPECT_EQ(added.size(), all.size() - work.size());
  ASSERT_EQ(sink.by_row.size(), all.size());
  for (const auto& item : all) {
    ASSERT_EQ(sink.by_row.count(item.row), 1u) << item.row;
    EXPECT_EQ(sink.by_row.at(item.row).result, science::simulate(item.params, item.seed)) << item.row;
  }
  // The total grew by the added runs.
  const auto total = std::to_string(all.size());
  EXPECT_NE(printed.find(total + "/" + total + " runs done"), std::string::npos) << printed;
}

// One run whose result fans out into many: the workers that had nothing to do take part (none was let go
// while the only run was in flight), and the sweep ends once the added runs are done.
TEST(RunMaster, HandsRunsAddedLateToWorkersThatHadNone) {
  const auto work = small_runs(1);
  auto fan_out = small_runs(12);
  for (auto& item : fan_out) item.row += 500;
  RecordingSink sink;
  int calls = 0;
  const MoreWork hook = [&](const WorkResult& result) {
    ++calls;
    return result.outcome.row == work.front().row ? fan_out : std::vector<science::PendingRun>{};
  };
  const auto report = run_collectively(work, sink, nullptr, hook);
  if (mpi::communicator().rank() != 0) return;
  EXPECT_EQ(report.computed, 13);
  EXPECT_EQ(calls, 13);
  EXPECT_FALSE(report.stopped_early);
  EXPECT_EQ(sink.duplicates, 0);
  for (const auto& item : fan_out) {
    ASSERT_EQ(sink.by_row.count(item.row), 1u) << item.row;
    EXPECT_EQ(sink.by_row.at(item.row).result, science::simulate(item.params, item.seed)) << item.row;
  }
}

// Runs a result adds after a stop are not handed out: the sweep reports that it stopped early, as their rows
// stay pending.
TEST(RunMaster, ReportsAStopEarlyWhenRunsAddedAfterTheStopAreLeft) {
  const auto work = small_runs(1);
  RecordingSink sink;
  mpi::communicator world;
  if (world.rank() == 0) {
    install_stop_handlers(world.size() == 1);
    sink.after_write = [] { std::raise(SIGUSR1); };
  }
  std::map<std::int64_t, science::PendingRun> added;
  const auto report = run_collectively(work, sink, nullptr, chain_hook(work, 3, added));
  if (world.rank() != 0) return;
  EXPECT_TRUE(report.stopped_early);
  EXPECT_EQ(report.computed, 1);
  EXPECT_EQ(sink.by_row.size(), 1u);
  EXPECT_EQ(added.size(), 1u);
  EXPECT_EQ(sink.closes, 1);
  reset_stop_request();
  std::signal(SIGUSR1, SIG_DFL);
}

}  // namespace
}  // namespace hetsweep::sched
