#include "sched/master.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/mpi/collectives.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/mpi/nonblocking.hpp>
#include <boost/optional.hpp>
#include <chrono>
#include <deque>
#include <list>
#include <thread>

#include "sched/batch_sizer.hpp"
#include "sched/compute.hpp"
#include "sched/console.hpp"
#include "sched/interrupt_probe.hpp"
#include "sched/messages.hpp"
#include "sched/stall_watch.hpp"
#include "sched/stop_signals.hpp"

namespace hetsweep::sched {
namespace {

namespace mpi = boost::mpi;
using SteadyClock = std::chrono::steady_clock;

// Batches a worker holds at once: one it computes, one queued so it never waits on the master.
constexpr int batches_per_worker = 2;

// A stall is always worth a warning after a minute; --stall-timeout may ask for one sooner.
constexpr double stall_warning_floor_seconds = 60;

double seconds_now() { return std::chrono::duration<double>(SteadyClock::now().time_since_epoch()).count(); }

// Every rank's host name, on rank 0 (so a warning can say where a stalled worker runs). Collective.
std::vector<std::string> gather_host_names(const mpi::communicator& world) {
  std::vector<std::string> names;
  if (world.rank() == 0) {
    mpi::gather(world, mpi::environment::processor_name(), names, 0);
  } else {
    mpi::gather(world, mpi::environment::processor_name(), 0);
  }
  return names;
}

void send_stop(const mpi::communicator& world) {
  for (int w = 1; w < world.size(); ++w) world.send(w, tag_stop);
}

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

StallWatch make_stall_watch(int workers, const std::optional<double>& stall_timeout_seconds) {
  if (!stall_timeout_seconds) return {workers, {stall_warning_floor_seconds}, std::nullopt};
  return {workers, {std::min(stall_warning_floor_seconds, *stall_timeout_seconds)}, StallRule{*stall_timeout_seconds}};
}

class Dispatcher {
 public:
  Dispatcher(const mpi::communicator& world, const std::vector<science::PendingRun>& work, ResultSink& sink,
             Progress& progress, const MasterOptions& options)
      : world_(world),
        work_(work),
        sink_(sink),
        progress_(progress),
        options_(options),
        sizer_(options.batch_target_seconds),
        last_flush_(SteadyClock::now()),
        stalls_(make_stall_watch(world.size() - 1, options.stall_timeout_seconds)),
        held_(static_cast<std::size_t>(world.size()), 0) {}

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
    // A stop signal ends the run in progress between two steps; it stays pending.
    const science::StopCheck stop = [] { return stop_requested(); };
    while (remaining() > 0 && !stop_requested()) {
      const auto result = compute(take_next(), stop);
      if (result.outcome.status == science::RowStatus::pending) {
        ++report_.interrupted;
        break;
      }
      record(result);
      progress_.update(report_.computed);
      flush_when_due();
    }
  }

  void run_with_workers() {
    hosts_ = gather_host_names(world_);
    hand_out();
    while (in_flight_ > 0) {
      std::vector<WorkResult> results;
      auto request = world_.irecv(mpi::any_source, tag_results, results);
      const auto status = wait_politely(request, [this] {
        act_on_stop_or_flush();
        watch_for_stalls();
      });
      if (!status) {
        // A second stop signal: what was written stays, the runs the workers hold are abandoned.
        if (!sink_closed_) sink_.flush();
        world_.abort(interrupted_exit_code);
      }
      --in_flight_;
      --held_[static_cast<std::size_t>(status->source())];
      stalls_.heard(status->source(), seconds_now());
      for (const auto& result : results) {
        if (result.outcome.status == science::RowStatus::pending) {
          ++report_.interrupted;  // handed back unfinished after a stop: a resume computes it
        } else if (!sink_closed_) {
          record(result);
        }  // else the sink was closed on a SIGTERM or SIGINT: this run stays pending, a resume computes it
      }
      if (!sink_closed_) progress_.update(report_.computed);
      // Every worker short of batches gets one, not only the one that answered: runs added by a result may
      // be the first work in a while for a worker that ran dry.
      if (!stop_requested()) hand_out();
      reap_sends();
      act_on_stop_or_flush();
    }
    // Every batch sent was answered, so every send has completed; every worker takes its interrupt message
    // before its stop message.
    sends_.clear();
    mpi::wait_all(interrupts_.begin(), interrupts_.end());
    send_stop(world_);
  }

  // On a first stop signal, interrupt the runs in progress. A SIGTERM or SIGINT from mpirun (sent to every rank
  // too when one dies) is followed by SIGKILL a second later: close the sink now, while the workers still hold
  // runs. After a SIGUSR1 the master waits for the workers' last batches: flush what was received once, at the
  // signal, then as usual.
  void act_on_stop_or_flush() {
    if (stop_requested()) interrupt_workers();
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

  // Tops every worker up to batches_per_worker batches while work remains, one round at a time so that the
  // work spreads over the workers.
  void hand_out() {
    for (int round = 0; round < batches_per_worker; ++round) {
      for (int w = 1; w < world_.size(); ++w) {
        if (held_[static_cast<std::size_t>(w)] <= round) send_batch(w);
      }
    }
  }

  [[nodiscard]] std::size_t remaining() const { return (work_.size() - next_) + added_.size(); }

  // Added runs go first: a result asked for them, and the runs after them may wait on their results.
  science::PendingRun take_next() {
    if (!added_.empty()) {
      auto run = std::move(added_.front());
      added_.pop_front();
      return run;
    }
    return work_[next_++];
  }

  // Once: every worker stops its run in progress at its next check and hands back what it holds.
  void interrupt_workers() {
    if (!interrupts_.empty()) return;
    for (int w = 1; w < world_.size(); ++w) interrupts_.push_back(world_.isend(w, tag_interrupt));
  }

  void watch_for_stalls() {
    const double now = seconds_now();
    const auto mean_run_seconds = sizer_.mean_run_seconds();
    for (const auto& stall : stalls_.newly_stalled(now, mean_run_seconds)) {
      tell(stderr, fmt::format("hetsweep: worker rank {} on {} has sent nothing for {:.0f} s while it holds work "
                               "({}): is it stopped, or its node hung?\n",
                               stall.worker, host(stall.worker), stall.silent_seconds,
                               stall.expected_batch_seconds
                                   ? fmt::format("its batch should take about {:.2g} s", *stall.expected_batch_seconds)
                                   : std::string("no run time is known yet")));
    }
    if (const auto stall = stalls_.stalled_past_stop(now, mean_run_seconds)) stop_for_stall(*stall);
  }

  // A stalled worker never answers, so it cannot be waited for, nor can MPI end the job in order: write and
  // close everything received, report, and end the job with the stop's exit code (Slurm then requeues).
  [[noreturn]] void stop_for_stall(const Stall& stall) {
    report_.stop_reason =
        fmt::format("a stalled worker (rank {} on {}, silent for {:.0f} s, --stall-timeout {:g})", stall.worker,
                    host(stall.worker), stall.silent_seconds, *options_.stall_timeout_seconds);
    close_sink();
    world_.abort(interrupted_exit_code);
    std::abort();  // MPI_Abort does not return; Boost does not declare it [[noreturn]]
  }

  [[nodiscard]] std::string host(int rank) const {
    return rank < static_cast<int>(hosts_.size()) ? hosts_[static_cast<std::size_t>(rank)] : std::string("?");
  }

  void close_sink() {
    if (sink_closed_) return;
    sink_.close();
    sink_closed_ = true;
    progress_.finish();
    report_.stopped_early = remaining() > 0 || in_flight_ > 0 || report_.interrupted > 0;
    report_.dropped_held_runs = in_flight_ > 0;
    if (report_.stopped_early && report_.stop_reason.empty())
      report_.stop_reason = fmt::format("signal {}", stop_signal());
    if (options_.on_closed) options_.on_closed(report_);
  }

  // Batches go out with non-blocking sends: a batch above Open MPI's eager limit is only delivered when the
  // worker, busy with its current batch, posts the receive, and a blocking send would spin until then.
  void send_batch(int worker) {
    const auto size = static_cast<std::size_t>(sizer_.next(static_cast<std::int64_t>(remaining()), world_.size() - 1));
    if (size == 0) return;
    auto& sending = sends_.emplace_back();
    sending.batch.reserve(size);
    for (std::size_t i = 0; i < size; ++i) sending.batch.push_back(take_next());
    sending.request = world_.isend(worker, tag_work, sending.batch);
    stalls_.sent(worker, static_cast<std::int64_t>(size), seconds_now());
    ++held_[static_cast<std::size_t>(worker)];
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
    if (result.outcome.status == science::RowStatus::failed) {
      ++report_.failed;
      tell(stderr, fmt::format("hetsweep: run {} failed: {}\n", result.outcome.row, result.error));
    }
    if (!options_.more_work) return;
    auto more = options_.more_work(result);
    progress_.add_to_total(static_cast<std::int64_t>(more.size()));
    added_.insert(added_.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }

  void flush_when_due() {
    const auto now = SteadyClock::now();
    if (std::chrono::duration<double>(now - last_flush_).count() >= options_.flush_interval_seconds) {
      sink_.flush();
      last_flush_ = now;
    }
  }

  const mpi::communicator& world_;
  const std::vector<science::PendingRun>& work_;
  ResultSink& sink_;
  Progress& progress_;
  MasterOptions options_;
  BatchSizer sizer_;
  SteadyClock::time_point last_flush_;
  StallWatch stalls_;
  std::vector<std::string> hosts_;  // [rank]
  struct Sending {
    std::vector<science::PendingRun> batch;
    mpi::request request;
  };
  std::list<Sending> sends_;  // a list: a request refers to its batch's buffer, which must not move
  std::vector<mpi::request> interrupts_;
  bool flushed_on_stop_ = false;  // the one flush at a SIGUSR1 is done
  bool sink_closed_ = false;
  std::size_t next_ = 0;                   // work_[next_..] is not handed out yet
  std::deque<science::PendingRun> added_;  // runs more_work added, not handed out yet
  std::vector<int> held_;                  // [rank]: batches the worker holds
  int in_flight_ = 0;
  MasterReport report_;
};

}  // namespace

MasterReport run_master(const mpi::communicator& world, const std::vector<science::PendingRun>& work, ResultSink& sink,
                        Progress& progress, const MasterOptions& options) {
  return Dispatcher(world, work, sink, progress, options).run();
}

void release_workers(const mpi::communicator& world) {
  if (world.size() == 1) return;
  gather_host_names(world);  // the workers start with it
  send_stop(world);
}

void run_worker(const mpi::communicator& world) {
  gather_host_names(world);
  InterruptProbe interrupt(world);
  const science::StopCheck stop = std::ref(interrupt);
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
    if (status.tag() == tag_interrupt) {
      world.recv(0, tag_interrupt);
      interrupt.received();
      continue;
    }
    std::vector<science::PendingRun> batch;
    world.recv(0, tag_work, batch);
    std::vector<WorkResult> results;
    results.reserve(batch.size());
    // Once interrupted, the rest of this batch and any later one go back at once, unfinished.
    for (const auto& item : batch)
      results.push_back(interrupt.interrupted() ? not_computed(item) : compute(item, stop));
    if (send_request) send_request->wait();
    sending = std::move(results);
    send_request = world.isend(0, tag_results, sending);
  }
  if (send_request) send_request->wait();
}

}  // namespace hetsweep::sched
