#include "cli/status_command.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"
#include "cli/row_values.hpp"
#include "cli/shard.hpp"
#include "cli/sweep_rate.hpp"
#include "refine/refiner.hpp"
#include "spec/grid.hpp"
#include "store/layout.hpp"

namespace hetsweep::cli {
namespace {

using store::layout::status_names;

using Counts = std::array<std::int64_t, status_names.size()>;
using Json = nlohmann::ordered_json;

struct StatusOptions {
  std::string path;
  bool check = false;
  bool json = false;
  std::string shard;  // with --check: judge only this shard's runs
};

struct Tally {
  Counts overall{};
  Counts refine{};  // refinement runs, counted in overall too
  std::int64_t refine_rows = 0;
  std::vector<std::vector<Counts>> per_axis;  // [axis][value], grid runs only
  std::vector<double> finished_at;
};

// One pass over the rows as they are read.
Tally tally(const spec::SweepSpec& spec, const store::ResultsReader& reader) {
  Tally t;
  t.per_axis.resize(spec.axes.size());
  for (std::size_t a = 0; a < spec.axes.size(); ++a) t.per_axis[a].resize(spec.axes[a].values.size());
  reader.visit_rows([&](const store::RowSummary& row) {
    const auto s = static_cast<std::size_t>(row.status);
    ++t.overall[s];
    t.finished_at.push_back(row.finished_at);
    if (row.origin == store::RowOrigin::refine) {
      // Off the grid on the refine axis: counted apart, not per axis value.
      ++t.refine[s];
      ++t.refine_rows;
      return;
    }
    for (std::size_t a = 0; a < spec.axes.size(); ++a) ++t.per_axis[a][static_cast<std::size_t>(row.coords[a])][s];
  });
  return t;
}

Counts grid_counts(const Tally& t) {
  Counts grid{};
  for (std::size_t s = 0; s < grid.size(); ++s) grid[s] = t.overall[s] - t.refine[s];
  return grid;
}

std::string counts_text(const Counts& c) {
  std::string text;
  for (std::size_t s = 0; s < c.size(); ++s) text += fmt::format("  {} {:>6}", status_names[s], c[s]);
  return text;
}

Json counts_json(const Counts& c) {
  Json counts = Json::object();
  for (std::size_t s = 0; s < c.size(); ++s) counts[std::string(status_names[s])] = c[s];
  return counts;
}

Json value_json(const science::ParamValue& value) {
  return std::visit([](const auto& v) { return Json(v); }, value);
}

// ISO 8601 in UTC, to the second.
std::string utc_text(double unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

Json optional_json(const std::optional<double>& x) { return x ? Json(*x) : Json(nullptr); }

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// `--check`: one line, and an exit code a batch script can act on. A shard's file lists the other shards'
// runs as pending too, so with `--shard` only the runs that shard computes (the rule of `run --shard`) count.
int check_complete(const std::string& path, const spec::SweepSpec& spec, const store::ResultsReader& reader,
                   const std::string& shard_text) {
  const Shard shard = shard_text.empty() ? Shard{} : parse_shard(shard_text);
  // As `run` slices: a refined sweep by combination of the other axes, any other by run seed.
  std::optional<refine::Refiner> refiner;
  if (spec.refine && shard.count > 1) refiner.emplace(spec);
  const auto shard_seed = [&](const store::RowSummary& row) {
    if (!refiner) return spec::run_seed(spec.seed, row.key);
    science::Params params = spec.base;
    for (const auto& axis : spec.axes) science::find_parameter(axis.name)->set(params, row_value(spec, row, axis.name));
    return refiner->combination_seed(params);
  };
  std::int64_t total = 0, left = 0;
  reader.visit_rows([&](const store::RowSummary& row) {
    if (!shard.contains(shard_seed(row))) return;
    ++total;
    left += row.status == science::RowStatus::pending ? 1 : 0;
  });
  const auto what = shard_text.empty() ? std::string("runs") : fmt::format("runs of shard {}", shard_text);
  if (left == 0) {
    fmt::print("{}: complete, {} {}\n", path, total, what);
    return exit_success;
  }
  fmt::print("{}: {} of {} {} pending\n", path, left, total, what);
  return exit_runs_remain;
}

// `--json`: one object, for scripts and notebooks.
void print_json(const std::string& path, const spec::SweepSpec& spec, const Tally& t, std::size_t total,
                const SweepRate& rate) {
  Json status = Json::object();
  status["path"] = path;
  status["sweep"] = spec.name;
  status["total"] = total;
  status["counts"] = counts_json(t.overall);
  if (spec.refine || t.refine_rows > 0) {
    status["grid"] = counts_json(grid_counts(t));
    status["refine"] = counts_json(t.refine);
  }
  Json axes = Json::object();
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    Json values = Json::array();
    for (std::size_t v = 0; v < spec.axes[a].values.size(); ++v) {
      values.push_back(Json{{"value", value_json(spec.axes[a].values[v])}, {"counts", counts_json(t.per_axis[a][v])}});
    }
    axes[spec.axes[a].name] = std::move(values);
  }
  status["axes"] = std::move(axes);
  status["rate"] = optional_json(rate.runs_per_second);
  status["eta_seconds"] = optional_json(rate.eta_seconds);
  double first = 0, newest = 0;
  for (double f : t.finished_at) {
    if (f <= 0) continue;
    first = first == 0 ? f : std::min(first, f);
    newest = std::max(newest, f);
  }
  status["started"] = first > 0 ? Json(utc_text(first)) : Json(nullptr);
  status["updated"] = newest > 0 ? Json(utc_text(newest)) : Json(nullptr);
  status["complete"] = t.overall[0] == 0;
  fmt::print("{}\n", status.dump(2));
}

void print_text(const std::string& path, const spec::SweepSpec& spec, const Tally& t, std::size_t total,
                const SweepRate& rate, double now) {
  fmt::print("{}: sweep {}, {} runs\n", path, spec.name, total);
  fmt::print("overall       {}\n", counts_text(t.overall));
  if (spec.refine || t.refine_rows > 0) {
    fmt::print("grid          {}\n", counts_text(grid_counts(t)));
    fmt::print("refine        {}\n", counts_text(t.refine));
  }
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    fmt::print("{}:\n", spec.axes[a].name);
    for (std::size_t v = 0; v < t.per_axis[a].size(); ++v) {
      fmt::print("  {:<12}{}\n", science::format_value(spec.axes[a].values[v]), counts_text(t.per_axis[a][v]));
    }
  }
  const double newest = t.finished_at.empty() ? 0 : *std::max_element(t.finished_at.begin(), t.finished_at.end());
  const std::int64_t left = t.overall[0];
  if (newest == 0) {
    fmt::print("no run has finished yet\n");
  } else if (left == 0) {
    fmt::print("complete; the last result was written {:.0f} s ago\n", now - newest);
  } else if (rate.stalled) {
    fmt::print("{} runs pending; no result for {:.0f} s: is the sweep running? re-run it to resume\n", left,
               now - newest);
  } else if (!rate.eta_seconds) {
    fmt::print("{} runs pending; too few results yet for a rate\n", left);
  } else {
    fmt::print("rate {:.3g} runs/s over the last {:.3g} s; ETA {:.0f} s for {} pending runs\n", *rate.runs_per_second,
               rate.covered_seconds, *rate.eta_seconds, left);
  }
}

int run_status(const StatusOptions& options) {
  if (!options.shard.empty()) parse_shard(options.shard);  // a bad flag is refused before the file is read
  const auto reader = open_results_or_usage_error(options.path);
  const auto& spec = reader->spec();
  if (options.check) return check_complete(options.path, spec, *reader, options.shard);
  const auto t = tally(spec, *reader);
  const auto total = t.finished_at.size();
  const double now = unix_now();
  const auto rate = estimate_rate(t.finished_at, t.overall[0], now);
  if (options.json) {
    print_json(options.path, spec, t, total, rate);
  } else {
    print_text(options.path, spec, t, total, rate, now);
  }
  return exit_success;
}

}  // namespace

std::function<int()> add_status_command(CLI::App& app) {
  auto options = std::make_shared<StatusOptions>();
  auto* command = app.add_subcommand(
      "status", "Counts per status overall and per axis value, rate and ETA (works while the sweep runs)");
  command->add_option("results", options->path, "the results file (HDF5)")->required();
  auto* check =
      command->add_flag("--check", options->check,
                        "print one line and exit 0 when no run is pending, 4 when runs remain (for batch scripts)");
  command
      ->add_flag(
          "--json", options->json,
          "print one JSON object: path, sweep, total, counts, axes, rate, eta_seconds, started, updated, complete")
      ->excludes(check);
  command
      ->add_option("--shard", options->shard,
                   "with --check: count only the runs of shard I/N, as `run --shard I/N` computes them")
      ->needs(check);
  return [options] { return run_status(*options); };
}

}  // namespace hetsweep::cli
