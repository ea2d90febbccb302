#include "sched/stop_signals.hpp"

#include <csignal>
#include <unistd.h>

namespace hetsweep::sched {
namespace {

volatile std::sig_atomic_t requested_signal = 0;
constexpr int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};
constexpr int exit_interrupted = 3;

extern "C" void on_stop_signal(int signal) {
  if (requested_signal != 0) _exit(exit_interrupted);
  requested_signal = signal;
}

void set_handler(void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  for (int s : stop_signals) sigaction(s, &action, nullptr);
}

}  // namespace

void install_stop_handlers() { set_handler(on_stop_signal); }
void ignore_stop_signals() { set_handler(SIG_IGN); }
bool stop_requested() { return requested_signal != 0; }
int stop_signal() { return requested_signal; }
void reset_stop_request() { requested_signal = 0; }

}  // namespace hetsweep::sched
