#pragma once
// Graceful stop on SIGTERM, SIGINT and SIGUSR1 (Slurm's preemption warning): the first asks the master to
// stop handing out runs, flush and exit; a second ends the process at once with exit code 3.

namespace hetsweep::sched {

// On the master (or a single rank).
void install_stop_handlers();
// On workers: the master decides when they stop, so the signals mpirun or srun forward to every rank are
// ignored there.
void ignore_stop_signals();
// Whether a stop was asked for, and by which signal (0 if none).
bool stop_requested();
int stop_signal();
// For tests: forget a previous request.
void reset_stop_request();

}  // namespace hetsweep::sched
