#pragma once
// Clean stop on SIGTERM, SIGINT and SIGUSR1: the first asks the master to stop handing out runs, write what
// it has and exit 3; a second asks it to stop at once. SIGUSR1 (Slurm's warning before the time limit, and
// what mpirun passes on to the ranks) lets the workers finish the runs they hold. SIGTERM and SIGINT come
// with a deadline: mpirun answers either by sending the ranks SIGTERM and, one second later, SIGKILL (Slurm
// after KillWait), so the master closes the results file at once and the runs the workers hold stay pending.
// Alone, a second signal ends the process inside the handler (exit code 3); with workers, it marks the stop
// urgent and the master, back in ordinary code within milliseconds, flushes and aborts the whole MPI job, so
// no worker is left waiting.

namespace hetsweep::sched {

// The exit code of a sweep stopped early (by a stop signal, or by a stalled worker with --stall-timeout): the
// results file is consistent and closed, and the same command resumes it. Defined once here; cli's exit codes
// use it.
inline constexpr int interrupted_exit_code = 3;

// On the master (or a single rank). `alone`: no workers depend on this process.
void install_stop_handlers(bool alone);
// On workers: the master decides when they stop, so the signals mpirun or srun forward to every rank are
// ignored there.
void ignore_stop_signals();
// Whether a stop was asked for, and by which signal (0 if none).
bool stop_requested();
bool urgent_stop_requested();
// Whether the stop asked for has a deadline (SIGTERM, SIGINT): close the results file now.
bool prompt_stop_requested();
int stop_signal();
// For tests: forget a previous request.
void reset_stop_request();

}  // namespace hetsweep::sched
