#include "sched/master.hpp"

#include <algorithm>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/nonblocking.hpp>
#include <boost/optional.hpp>
#include <chrono>
#include <fmt/format.h>
#include <list>
#include <thread>

#include "sched/batch_sizer.hpp"
#include "sched/console.hpp"
#include "sched/stop_signals.hpp"

namespace hetsweep::sched {
namespace {

namespace mpi = boost::mpi;
using SteadyClock = std::chrono::steady_clock;

constexpr int exit_interrupted = 3;  // as cli::exit_interrupted: the sweep stopped early, re-run to resume

// Batches a worker holds at once: one it computes, one queued so it never waits on the master.
constexpr int batches_per_worker = 2;

// Waits for `request` without spinning: tests it with a sleep that grows to a few milliseconds, calling
// `meanwhile` between tests. Returns nothing when an urgent stop is asked for meanwhile.
template <typename Meanwhile>
boost::optional<mpi::status> wait_politely(mpi::request& request, Meanwhile&& meanwhile) {
  auto pause = std::chrono::microseconds(20);
  while (!urgent_stop_requested()) {
    if (auto status = request.test()) return status;
    meanwhile();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(4000));
  }
  return boost::none;
}

class Dispatcher {
 public:
  Dispatcher(const mpi::communicator& world, const std::vector<WorkItem>& work, ResultSink& sink, Progress& progress,
             const MasterOptions& options)
      : world_(world), work_(work), sink_(sink), progress_(progress), options_(options),
        sizer_(options.batch_target_seconds), last_flush_(SteadyClock::now()) {}

  MasterReport run() {
    if (world_.size() == 1) {
      run_alone();
    } else {
      run_with_workers();
    }
    close_sink();  // in run_with_workers already after a SIGTERM or SIGINT
    return report_;
  }

 private:
  void run_alone() {
    while (next_ < work_.size() && !stop_requested()) {
      const auto result = compute(work_[next_++]);
      record(result);
      progress_.update(report_.computed);
      flush_when_due();
    }
  }

  void run_with_workers() {
    const int workers = world_.size() - 1;
    for (int round = 0; round < batches_per_worker; ++round) {
      for (int w = 1; w <= workers; ++w) send_batch(w);
    }
    while (in_flight_ > 0) {
      std::vector<WorkResult> results;
      auto request = world_.irecv(mpi::any_source, tag_results, results);
      const auto status = wait_politely(request, [this] { act_on_stop_or_flush(); });
      if (!status) {
        // A second stop signal: what was written stays, the runs the workers hold are abandoned.
        if (!sink_closed_) sink_.flush();
        world_.abort(exit_interrupted);
      }
      --in_flight_;
      if (!sink_closed_) {
        for (const auto& result : results) record(result);
        progress_.update(report_.computed);
      }  // else the sink was closed on a SIGTERM or SIGINT: these runs stay pending, a resume computes them
      if (!stop_requested()) send_batch(status->source());
      reap_sends();
      act_on_stop_or_flush();
    }
    // Every batch sent was answered, so every send has completed.
    sends_.clear();
    release_workers(world_);
  }

  // On a first stop signal, flush what was received at once: when a worker dies, Open MPI signals the others
  // and kills them a second later, and what the master holds would be lost. A SIGTERM or SIGINT from mpirun
  // is followed by SIGKILL a second later: close the sink now, while the workers still hold runs.
  void act_on_stop_or_flush() {
    if (sink_closed_) return;
    if (stop_requested() && prompt_stop_requested()) {
      close_sink();
      return;
    }
    if (stop_requested() && !flushed_on_stop_) {
      sink_.flush();
      flushed_on_stop_ = true;
    }
    flush_when_due();
  }

  void close_sink() {
    if (sink_closed_) return;
    sink_.close();
    sink_closed_ = true;
    progress_.finish();
    report_.stopped_early = next_ < work_.size() || in_flight_ > 0;
    if (options_.on_closed) options_.on_closed(report_);
  }

  // Batches go out with non-blocking sends: a batch above Open MPI's eager limit is only delivered when the
  // worker, busy with its current batch, posts the receive, and a blocking send would spin until then.
  void send_batch(int worker) {
    const auto remaining = static_cast<std::int64_t>(work_.size() - next_);
    const auto size = static_cast<std::size_t>(sizer_.next(remaining, world_.size() - 1));
    if (size == 0) return;
    auto& sending = sends_.emplace_back();
    sending.batch.assign(work_.begin() + static_cast<std::ptrdiff_t>(next_),
                         work_.begin() + static_cast<std::ptrdiff_t>(next_ + size));
    sending.request = world_.isend(worker, tag_work, sending.batch);
    next_ += size;
    ++in_flight_;
  }

  // Forgets the sends that completed (their buffers may go).
  void reap_sends() {
    sends_.remove_if([](Sending& s) { return static_cast<bool>(s.request.test()); });
  }

  void record(const WorkResult& result) {
    sink_.write(result);
    sizer_.observe(result.outcome.wall_seconds);
    ++report_.computed;
    if (result.outcome.status == store::RowStatus::failed) {
      ++report_.failed;
      tell(stderr, fmt::format("hetsweep: run {} failed: {}\n", result.outcome.row, result.error));
    }
  }

  void flush_when_due() {
    const auto now = SteadyClock::now();
    if (std::chrono::duration<double>(now - last_flush_).count() >= options_.flush_interval_seconds) {
      sink_.flush();
      last_flush_ = now;
    }
  }

  const mpi::communicator& world_;
  const std::vector<WorkItem>& work_;
  ResultSink& sink_;
  Progress& progress_;
  MasterOptions options_;
  BatchSizer sizer_;
  SteadyClock::time_point last_flush_;
  struct Sending {
    std::vector<WorkItem> batch;
    mpi::request request;
  };
  std::list<Sending> sends_;  // a list: a request refers to its batch's buffer, which must not move
  bool flushed_on_stop_ = false;
  bool sink_closed_ = false;
  std::size_t next_ = 0;
  int in_flight_ = 0;
  MasterReport report_;
};

}  // namespace

MasterReport run_master(const mpi::communicator& world, const std::vector<WorkItem>& work, ResultSink& sink,
                        Progress& progress, const MasterOptions& options) {
  return Dispatcher(world, work, sink, progress, options).run();
}

void release_workers(const mpi::communicator& world) {
  for (int w = 1; w < world.size(); ++w) world.send(w, tag_stop);
}

void run_worker(const mpi::communicator& world) {
  // Results go back with a non-blocking send so the worker starts its next batch at once; one buffer is
  // in flight while the next batch is computed.
  std::vector<WorkResult> sending;
  boost::optional<mpi::request> send_request;
  for (;;) {
    const auto status = world.probe(0, mpi::any_tag);
    if (status.tag() == tag_stop) {
      world.recv(0, tag_stop);
      break;
    }
    std::vector<WorkItem> batch;
    world.recv(0, tag_work, batch);
    std::vector<WorkResult> results;
    results.reserve(batch.size());
    for (const auto& item : batch) results.push_back(compute(item));
    if (send_request) send_request->wait();
    sending = std::move(results);
    send_request = world.isend(0, tag_results, sending);
  }
  if (send_request) send_request->wait();
}

}  // namespace hetsweep::sched
