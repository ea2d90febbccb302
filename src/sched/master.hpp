#pragma once
// Rank 0 of a sweep: hands runs to the workers as they become free and writes every result as it arrives.

#include <boost/mpi/communicator.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sched/compute.hpp"
#include "sched/progress.hpp"
#include "science/run.hpp"

namespace hetsweep::sched {

// Where the master puts results. The results file in production; a recorder in tests.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void write(const WorkResult& result) = 0;
  virtual void flush() = 0;
  // Flushes and closes for good: nothing is written after it.
  virtual void close() = 0;
};

struct MasterReport {
  std::int64_t computed = 0;  // results written in this invocation
  std::int64_t failed = 0;
  // Runs handed back unfinished after a stop (interrupted midway, or not begun): not written, still pending.
  std::int64_t interrupted = 0;
  bool stopped_early = false;      // the sweep stopped before every run was written: some stay pending
  bool dropped_held_runs = false;  // the sink was closed while workers still held runs (they stay pending)
  std::string stop_reason;         // why it stopped early: "signal 15", or the stalled worker
};

struct MasterOptions {
  double flush_interval_seconds = 1.0;
  double batch_target_seconds = 0.1;
  // Called once the sink is closed, with what was written: the moment to report, since after a SIGTERM or
  // SIGINT mpirun may SIGKILL the master while it waits for the workers' last batches.
  std::function<void(const MasterReport&)> on_closed;
  // When set, a worker silent for longer than max(this, 20 x its batch's expected time) stops the sweep as a
  // stop signal would (flush, close, report), then ends the MPI job with interrupted_exit_code: a stalled
  // worker never answers, so it cannot be waited for. Without it, a stall only gets a warning (after 60 s).
  std::optional<double> stall_timeout_seconds;
  // When set, called with every result written to the sink (after it is written); the runs it returns join
  // the work at once, ahead of the runs not yet handed out (a result may be what the next runs wait for), and
  // count in the progress total. The sweep ends when no run is left to hand out, none is in flight and this
  // gave nothing more.
  std::function<std::vector<science::PendingRun>(const WorkResult&)> more_work;
};

// Distributes `work`, and whatever options.more_work adds, over ranks 1..N-1 of `world` (computes it itself
// when it is alone), writing each result to `sink`, flushing at least every flush_interval_seconds, and closing it at
// the end. After a stop request it hands out nothing more and interrupts the runs in progress (alone, between two
// steps; on workers, by a tag_interrupt message they look for every 50 ms between steps): they come back unfinished and
// stay pending. After SIGUSR1 it waits for the batches the workers hold and writes the runs they had finished; after
// SIGTERM or SIGINT it closes the sink at once and drops what arrives after (those runs stay pending). A worker that
// holds work and stays silent too long (see StallWatch) gets one warning on stderr naming its rank and host. A worker
// left without work while more may come stays until the end. Always releases the workers before returning. Waits by
// polling with short sleeps: a blocking receive in Open MPI spins a whole core.
MasterReport run_master(const boost::mpi::communicator& world, const std::vector<science::PendingRun>& work,
                        ResultSink& sink, Progress& progress, const MasterOptions& options = {});

// Ranks 1..N-1: compute whatever rank 0 sends until it says stop; once it says interrupt, stop the run in
// progress between two steps and hand back every run not finished.
void run_worker(const boost::mpi::communicator& world);

// Releases the workers without any work (when rank 0 fails before the sweep starts). Collective with
// run_worker, like run_master.
void release_workers(const boost::mpi::communicator& world);

}  // namespace hetsweep::sched
