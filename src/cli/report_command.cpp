#include "cli/report_command.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"
#include "cli/row_values.hpp"

namespace hetsweep::cli {
namespace {

struct Cell {
  std::vector<double> true_signal, spurious_signal;
  int diverged = 0, failed = 0, pending = 0;
};

std::string mean_std(const std::vector<double>& x) {
  double mean = 0;
  for (double v : x) mean += v / static_cast<double>(x.size());
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  const double sd = x.size() > 1 ? std::sqrt(var / static_cast<double>(x.size() - 1)) : 0.0;
  return fmt::format("{:.3f}±{:.3f}", mean, sd);
}

std::string cell_text(const Cell& c) {
  std::string notes;
  if (c.diverged > 0) notes += fmt::format(" {}div", c.diverged);
  if (c.failed > 0) notes += fmt::format(" {}fail", c.failed);
  if (c.pending > 0) notes += fmt::format(" {}pend", c.pending);
  if (c.true_signal.empty()) return notes.empty() ? "-" : notes.substr(1);
  return mean_std(c.true_signal) + " / " + mean_std(c.spurious_signal) + notes;
}

// Numeric values sort as numbers; the order of first appearance is kept for names.
bool value_less(const science::ParamValue& a, const science::ParamValue& b) {
  const auto number = [](const science::ParamValue& v) {
    return std::holds_alternative<double>(v) ? std::get<double>(v) : static_cast<double>(std::get<std::int64_t>(v));
  };
  if (std::holds_alternative<std::string>(a) || std::holds_alternative<std::string>(b)) return false;
  return number(a) < number(b);
}

// Batch sizes in numeric order, then algorithms by name.
bool group_less(const std::tuple<science::ParamValue, science::ParamValue>& a,
                const std::tuple<science::ParamValue, science::ParamValue>& b) {
  if (value_less(std::get<0>(a), std::get<0>(b))) return true;
  if (value_less(std::get<0>(b), std::get<0>(a))) return false;
  return std::get<1>(a) < std::get<1>(b);
}

int run_report(const std::string& path) {
  const auto reader = open_results_or_usage_error(path);
  const auto& spec = reader->spec();
  using Group = std::tuple<science::ParamValue, science::ParamValue>;  // batch_size, algorithm
  std::map<Group, std::map<std::string, std::map<std::string, Cell>>, decltype(&group_less)> tables(&group_less);
  std::vector<science::ParamValue> heterogeneities, step_sizes;
  const auto remember = [](std::vector<science::ParamValue>& seen, const science::ParamValue& v) {
    if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  };

  for (const auto& row : reader->rows()) {
    const auto m = row_value(spec, row, "heterogeneity");
    const auto eta = row_value(spec, row, "step_size");
    remember(heterogeneities, m);
    remember(step_sizes, eta);
    auto& cell = tables[{row_value(spec, row, "batch_size"), row_value(spec, row, "algorithm")}]
                       [science::format_value(m)][science::format_value(eta)];
    switch (row.status) {
      case store::RowStatus::done:
        cell.true_signal.push_back(row.final_metrics.true_signal);
        cell.spurious_signal.push_back(row.final_metrics.spurious_signal);
        break;
      case store::RowStatus::diverged: ++cell.diverged; break;
      case store::RowStatus::failed: ++cell.failed; break;
      case store::RowStatus::pending: ++cell.pending; break;
    }
  }
  std::stable_sort(heterogeneities.begin(), heterogeneities.end(), value_less);
  std::stable_sort(step_sizes.begin(), step_sizes.end(), value_less);

  fmt::print("{}: sweep {}. Cells: final true_signal / spurious_signal, mean±std over replicates of done runs"
             " (div, fail, pend: runs diverged, failed, pending)\n",
             path, spec.name);
  constexpr int width = 30;
  for (const auto& [group, table] : tables) {
    fmt::print("\nbatch_size {}, algorithm {}\n", science::format_value(std::get<0>(group)),
               science::format_value(std::get<1>(group)));
    fmt::print("{:>14}", "M \\ eta");
    for (const auto& eta : step_sizes) fmt::print(" {:>{}}", science::format_value(eta), width);
    fmt::print("\n");
    for (const auto& m : heterogeneities) {
      const auto row = table.find(science::format_value(m));
      if (row == table.end()) continue;
      fmt::print("{:>14}", science::format_value(m));
      for (const auto& eta : step_sizes) {
        const auto cell = row->second.find(science::format_value(eta));
        fmt::print(" {:>{}}", cell == row->second.end() ? std::string("-") : cell_text(cell->second), width);
      }
      fmt::print("\n");
    }
  }
  return exit_success;
}

}  // namespace

std::function<int()> add_report_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* command = app.add_subcommand("report", "Tables of final true and spurious signal per heterogeneity x step size");
  command->add_option("results", *path, "the results file (HDF5)")->required();
  return [path] { return run_report(*path); };
}

}  // namespace hetsweep::cli
