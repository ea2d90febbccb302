#pragma once
// Progress on stderr: a bar redrawn in place on a terminal, a plain line every few seconds otherwise
// (Slurm logs), or nothing. A write that fails (the reader is gone) is dropped.

#include <cstdint>
#include <cstdio>
#include <functional>

namespace hetsweep::sched {

class Progress {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic
  enum class Style { automatic, bar, lines, none };

  // `already_done` runs were finished before this invocation; the rate counts only this invocation's. A null
  // `out` prints nothing.
  Progress(std::FILE* out, bool live, std::int64_t total, std::int64_t already_done, Clock clock,
           double plain_interval_seconds = 10.0);
  // Reports `done` runs finished in this invocation so far; prints when due.
  void update(std::int64_t done);
  // Runs added to the sweep while it runs (adaptive refinement): the total grows by `runs`.
  void add_to_total(std::int64_t runs) { total_ += runs; }
  // Prints the final state once.
  void finish();

  // On stderr with the steady clock; `automatic` is a bar when stderr_reaches_a_terminal(), lines otherwise.
  static Progress on_stderr(std::int64_t total, std::int64_t already_done, Style style = Style::automatic);

 private:
  void print();

  std::FILE* out_;
  bool live_;
  std::int64_t total_, already_done_, done_ = 0;
  Clock clock_;
  double interval_, start_, last_print_;
};

// Whether what this process writes to stderr ends up on a terminal: stderr is one, or, under mpirun, mpirun's
// own stderr is one.
bool stderr_reaches_a_terminal();

}  // namespace hetsweep::sched
