#pragma once
// Rank 0 of a sweep: hands runs to the workers as they become free and writes every result as it arrives.

#include <boost/mpi/communicator.hpp>
#include <cstdint>
#include <functional>
#include <vector>

#include "sched/messages.hpp"
#include "sched/progress.hpp"

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
  bool stopped_early = false;  // a stop signal came before every run was written: some stay pending
};

struct MasterOptions {
  double flush_interval_seconds = 1.0;
  double batch_target_seconds = 0.1;
  // Called once the sink is closed, with what was written: the moment to report, since after a SIGTERM or
  // SIGINT mpirun may SIGKILL the master while it waits for the workers' last batches.
  std::function<void(const MasterReport&)> on_closed;
};

// Distributes `work` over ranks 1..N-1 of `world` (computes it itself when it is alone), writing each result
// to `sink`, flushing at least every flush_interval_seconds, and closing it at the end. After a stop request
// it hands out nothing more; after SIGUSR1 it waits for the batches the workers hold and writes them, after
// SIGTERM or SIGINT it closes the sink at once and drops them when they arrive (their runs stay pending).
// Always releases the workers before returning. Waits by polling with short sleeps: a blocking receive in
// Open MPI spins a whole core.
MasterReport run_master(const boost::mpi::communicator& world, const std::vector<WorkItem>& work, ResultSink& sink,
                        Progress& progress, const MasterOptions& options = {});

// Ranks 1..N-1: compute whatever rank 0 sends until it says stop.
void run_worker(const boost::mpi::communicator& world);

// Releases the workers without any work (when rank 0 fails before the sweep starts).
void release_workers(const boost::mpi::communicator& world);

}  // namespace hetsweep::sched
