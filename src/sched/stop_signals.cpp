#include "sched/stop_signals.hpp"

#include <unistd.h>
#include <csignal>

namespace hetsweep::sched {
namespace {

volatile std::sig_atomic_t requested_signal = 0;
volatile std::sig_atomic_t urgent = 0;
volatile std::sig_atomic_t exit_in_handler = 0;
constexpr int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1};

extern "C" void on_stop_signal(int signal) {
  if (requested_signal == 0) {
    requested_signal = signal;
  } else if (exit_in_handler != 0) {
    _exit(interrupted_exit_code);
  } else {
    urgent = 1;
  }
}

void set_handler(void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  for (int s : stop_signals) sigaction(s, &action, nullptr);
}

}  // namespace

void install_stop_handlers(bool alone) {
  exit_in_handler = alone ? 1 : 0;
  set_handler(on_stop_signal);
}
void ignore_stop_signals() { set_handler(SIG_IGN); }
bool stop_requested() { return requested_signal != 0; }
bool urgent_stop_requested() { return urgent != 0; }
bool prompt_stop_requested() { return requested_signal == SIGTERM || requested_signal == SIGINT; }
int stop_signal() { return requested_signal; }
void reset_stop_request() {
  requested_signal = 0;
  urgent = 0;
}

}  // namespace hetsweep::sched
