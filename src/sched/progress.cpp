#include "sched/progress.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <string>

#include "sched/console.hpp"

namespace hetsweep::sched {
namespace {

std::string duration_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace

Progress::Progress(std::FILE* out, bool live, std::int64_t total, std::int64_t already_done, Clock clock,
                   double plain_interval_seconds)
    : out_(out),
      live_(live),
      total_(total),
      already_done_(already_done),
      clock_(std::move(clock)),
      interval_(live ? 0.2 : plain_interval_seconds),
      start_(clock_()),
      last_print_(start_) {}

bool stderr_reaches_a_terminal() {
  if (isatty(STDERR_FILENO) == 1) return true;
  // Under Open MPI's mpirun, a rank's stderr is a pipe that mpirun (the parent of the ranks on its own
  // machine) copies to its own stderr: whether that is a terminal is what counts.
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) return false;
  const auto parent_stderr = fmt::format("/proc/{}/fd/2", getppid());
  const int fd = open(parent_stderr.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  const bool terminal = isatty(fd) == 1;
  close(fd);
  return terminal;
}

Progress Progress::on_stderr(std::int64_t total, std::int64_t already_done, Style style) {
  auto steady = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  if (style == Style::automatic) style = stderr_reaches_a_terminal() ? Style::bar : Style::lines;
  return Progress(style == Style::none ? nullptr : stderr, style == Style::bar, total, already_done, steady);
}

void Progress::update(std::int64_t done) {
  done_ = done;
  if (clock_() - last_print_ >= interval_) print();
}

void Progress::finish() {
  print();
  if (live_ && out_ != nullptr) tell(out_, "\n");
}

void Progress::print() {
  if (out_ == nullptr) return;
  const double now = clock_();
  last_print_ = now;
  const double elapsed = now - start_;
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const std::int64_t finished = already_done_ + done_;
  const std::int64_t left = total_ - finished;
  const std::string eta = rate > 0 ? duration_text(static_cast<double>(left) / rate) : std::string("?");
  const double percent = total_ > 0 ? 100.0 * static_cast<double>(finished) / static_cast<double>(total_) : 100.0;
  if (live_) {
    constexpr int width = 30;
    const int filled = static_cast<int>(width * percent / 100.0);
    tell(out_, fmt::format("\r[{}{}] {}/{} runs  {:.1f} runs/s  ETA {}   ",
                           std::string(static_cast<std::size_t>(filled), '#'),
                           std::string(static_cast<std::size_t>(width - filled), '.'), finished, total_, rate, eta));
  } else {
    tell(out_, fmt::format("hetsweep: {}/{} runs done ({:.1f}%), {:.1f} runs/s, ETA {}\n", finished, total_, percent,
                           rate, eta));
  }
}

}  // namespace hetsweep::sched
