#include "sched/master.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
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

// Collective: rank 0 masters, the others work.
MasterReport run_collectively(const std::vector<science::PendingRun>& work, RecordingSink& sink,
                              std::function<void(const MasterReport&)> on_closed = nullptr) {
  mpi::communicator world;
  if (world.rank() != 0) {
    run_worker(world);
    return {};
  }
  auto progress = quiet_progress(static_cast<std::int64_t>(work.size()));
  sink.closed = false;
  MasterOptions options;
  options.flush_interval_seconds = 0.0;
  options.batch_target_seconds = 0.002;
  options.on_closed = std::move(on_closed);
  return run_master(world, work, sink, progress, options);
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

}  // namespace
}  // namespace hetsweep::sched
