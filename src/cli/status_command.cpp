#include "cli/status_command.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <fmt/format.h>
#include <memory>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"

namespace hetsweep::cli {
namespace {

constexpr std::array<std::string_view, 4> status_names{"pending", "done", "diverged", "failed"};
// The rate counts the results written within this window before the newest one.
constexpr double rate_window_seconds = 120.0;

using Counts = std::array<std::int64_t, 4>;

std::string counts_text(const Counts& c) {
  std::string text;
  for (std::size_t s = 0; s < c.size(); ++s) text += fmt::format("  {} {:>6}", status_names[s], c[s]);
  return text;
}

struct StatusOptions {
  std::string path;
  bool check = false;
};

// `--check`: one line, and an exit code a batch script can act on.
int check_complete(const std::string& path, const Counts& overall, std::size_t total) {
  const std::int64_t left = overall[0];
  if (left == 0) {
    fmt::print("{}: complete, {} runs\n", path, total);
    return exit_success;
  }
  fmt::print("{}: {} of {} runs pending\n", path, left, total);
  return exit_runs_remain;
}

int run_status(const StatusOptions& options) {
  const auto& path = options.path;
  const auto reader = open_results_or_usage_error(path);
  const auto& spec = reader->spec();
  const auto rows = reader->rows();

  Counts overall{};
  std::vector<std::vector<Counts>> per_axis(spec.axes.size());
  for (std::size_t a = 0; a < spec.axes.size(); ++a) per_axis[a].resize(spec.axes[a].values.size());
  double newest = 0;
  for (const auto& row : rows) {
    const auto s = static_cast<std::size_t>(row.status);
    ++overall[s];
    for (std::size_t a = 0; a < spec.axes.size(); ++a) ++per_axis[a][static_cast<std::size_t>(row.coords[a])][s];
    newest = std::max(newest, row.finished_at);
  }
  if (options.check) return check_complete(path, overall, rows.size());

  fmt::print("{}: sweep {}, {} runs\n", path, spec.name, rows.size());
  fmt::print("overall       {}\n", counts_text(overall));
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    fmt::print("{}:\n", spec.axes[a].name);
    for (std::size_t v = 0; v < per_axis[a].size(); ++v) {
      fmt::print("  {:<12}{}\n", science::format_value(spec.axes[a].values[v]), counts_text(per_axis[a][v]));
    }
  }

  const std::int64_t left = overall[0];
  if (newest == 0) {
    fmt::print("no run has finished yet\n");
    return exit_success;
  }
  const std::int64_t recent = std::count_if(rows.begin(), rows.end(), [&](const auto& r) {
    return r.finished_at > 0 && r.finished_at >= newest - rate_window_seconds;
  });
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double idle = now - newest;
  const double rate = static_cast<double>(recent) / rate_window_seconds;
  if (left == 0) {
    fmt::print("complete; the last result was written {:.0f} s ago\n", idle);
  } else if (idle > rate_window_seconds) {
    fmt::print("{} runs pending; no result for {:.0f} s: is the sweep running? re-run it to resume\n", left, idle);
  } else {
    fmt::print("rate {:.2f} runs/s over the last {:.0f} s; ETA {:.0f} s for {} pending runs\n", rate, rate_window_seconds,
               static_cast<double>(left) / std::max(rate, 1e-9), left);
  }
  return exit_success;
}

}  // namespace

std::function<int()> add_status_command(CLI::App& app) {
  auto options = std::make_shared<StatusOptions>();
  auto* command = app.add_subcommand("status", "Counts per status overall and per axis value, rate and ETA (works while the sweep runs)");
  command->add_option("results", options->path, "the results file (HDF5)")->required();
  command->add_flag("--check", options->check,
                    "print one line and exit 0 when no run is pending, 4 when runs remain (for batch scripts)");
  return [options] { return run_status(*options); };
}

}  // namespace hetsweep::cli
