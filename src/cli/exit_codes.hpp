#pragma once
// The exit codes of every hetsweep command (documented in README "Exit codes").

#include <stdexcept>

#include "sched/stop_signals.hpp"

namespace hetsweep::cli {

enum ExitCode : int {
  exit_success = 0,    // the command did all it was asked
  exit_failure = 1,    // an unexpected failure (a bug, or the system failed under us); `verify`: damage found
  exit_bad_input = 2,  // bad flags, spec or file: nothing was written or changed
  exit_interrupted = sched::interrupted_exit_code,  // stopped early (a stop signal, a stalled worker): re-run resumes
  exit_runs_remain = 4,  // `status --check`: the file is readable and some runs are still pending
};

// A user error: the message is printed as is and the command exits with exit_bad_input.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The system failed under a command that started well (a disk filled up): the message says what is kept and
// what to do; the command exits with exit_failure.
class SystemFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace hetsweep::cli
