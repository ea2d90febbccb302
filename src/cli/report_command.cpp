#include "cli/report_command.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"

namespace hetsweep::cli {
namespace {

struct ReportOptions {
  std::string path;
  std::string rows, cols, metric;
  std::vector<std::string> where;
};

// Which axis runs down the table, which across, which are held at one value, and which get one table per
// value combination. Every axis is exactly one of these, so a cell holds the replicates of one grid point.
struct Layout {
  std::optional<std::size_t> row_axis, col_axis;
  std::map<std::size_t, std::int64_t> where;  // axis -> value index
  std::vector<std::size_t> table_axes;
};

std::string axis_list(const spec::SweepSpec& spec) {
  std::string names;
  for (const auto& axis : spec.axes) names += (names.empty() ? "" : ", ") + axis.name;
  return names.empty() ? "none" : names;
}

std::size_t axis_index(const spec::SweepSpec& spec, const std::string& name, std::string_view flag) {
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    if (spec.axes[a].name == name) return a;
  }
  const auto* parameter = science::find_parameter(name);
  const std::string why = parameter != nullptr
                              ? fmt::format("{} is not an axis of sweep {} (it is fixed at {})", name, spec.name,
                                            science::format_value(parameter->get(spec.base)))
                              : fmt::format("{} is not an axis of sweep {}", name, spec.name);
  throw UsageError(fmt::format("{} {}: {}; its axes are: {}", flag, name, why, axis_list(spec)));
}

std::int64_t value_index(const spec::SweepSpec& spec, std::size_t axis, const std::string& text) {
  const auto& values = spec.axes[axis].values;
  // Read as the same value in a spec would be (so 1e3 finds 1000); text that is no value of the axis's kind
  // finds nothing and gets the message below.
  std::optional<science::ParamValue> parsed;
  try {
    parsed = spec::parse_parameter_text(*science::find_parameter(spec.axes[axis].name), text, "--where");
  } catch (const spec::SpecError&) {
  }
  for (std::size_t v = 0; parsed && v < values.size(); ++v) {
    if (science::format_value(values[v]) == science::format_value(*parsed)) return static_cast<std::int64_t>(v);
  }
  std::string known;
  for (const auto& v : values) known += (known.empty() ? "" : ", ") + science::format_value(v);
  throw UsageError(fmt::format("--where {}={}: {} is not a value of axis {}; its values are: {}", spec.axes[axis].name,
                               text, text, spec.axes[axis].name, known));
}

Layout choose_layout(const spec::SweepSpec& spec, const ReportOptions& options) {
  Layout layout;
  for (const auto& condition : options.where) {
    const auto equals = condition.find('=');
    if (equals == std::string::npos) throw UsageError(fmt::format("--where {}: expected AXIS=VALUE", condition));
    const auto axis = axis_index(spec, condition.substr(0, equals), "--where");
    if (layout.where.count(axis) > 0) throw UsageError(fmt::format("--where {}: given twice", spec.axes[axis].name));
    layout.where[axis] = value_index(spec, axis, condition.substr(equals + 1));
  }
  const auto free = [&](std::size_t a) {
    return layout.where.count(a) == 0 && layout.row_axis != a && layout.col_axis != a;
  };
  const auto explicit_axis = [&](const std::string& name, std::string_view flag) {
    const auto axis = axis_index(spec, name, flag);
    if (!free(axis)) throw UsageError(fmt::format("{} {}: that axis is already used by another flag", flag, name));
    return axis;
  };
  const auto default_axis = [&](std::string_view name) -> std::optional<std::size_t> {
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      if (spec.axes[a].name == name && free(a)) return a;
    }
    return std::nullopt;
  };
  if (!options.rows.empty()) layout.row_axis = explicit_axis(options.rows, "--rows");
  if (!options.cols.empty()) layout.col_axis = explicit_axis(options.cols, "--cols");
  if (options.rows.empty()) {
    layout.row_axis = default_axis("heterogeneity");
    if (!layout.row_axis) {
      std::vector<std::size_t> remaining;
      for (std::size_t a = 0; a < spec.axes.size(); ++a) {
        const bool default_cols = options.cols.empty() && spec.axes[a].name == "step_size";
        if (free(a) && !default_cols) remaining.push_back(a);
      }
      if (remaining.size() == 1) {
        layout.row_axis = remaining.front();
      } else if (remaining.size() > 1) {
        throw UsageError(
            fmt::format("sweep {} has no heterogeneity axis: choose the table's rows with --rows AXIS "
                        "(and columns with --cols AXIS); its axes are: {}",
                        spec.name, axis_list(spec)));
      }
    }
  }
  if (options.cols.empty()) layout.col_axis = default_axis("step_size");
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    if (free(a)) layout.table_axes.push_back(a);
  }
  return layout;
}

std::optional<std::size_t> metric_index(const std::string& name) {
  if (name.empty()) return std::nullopt;
  for (std::size_t m = 0; m < science::metric_names.size(); ++m) {
    if (science::metric_names[m] == name) return m;
  }
  std::string known;
  for (const auto& m : science::metric_names) known += (known.empty() ? "" : ", ") + std::string(m);
  throw UsageError(fmt::format("--metric {}: not a metric; the metrics are: {}", name, known));
}

// The runs of one grid point: its replicates.
struct Cell {
  std::vector<science::Metrics> done;
  int diverged = 0, failed = 0, pending = 0;
};

std::string mean_std(const std::vector<science::Metrics>& runs, std::size_t metric) {
  const auto field = science::metric_fields[metric];
  const auto n = static_cast<double>(runs.size());
  double mean = 0;
  for (const auto& r : runs) mean += r.*field / n;
  double squares = 0;
  for (const auto& r : runs) squares += (r.*field - mean) * (r.*field - mean);
  const double sd = runs.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  return fmt::format("{:.4g}±{:.2g}", mean, sd);
}

std::string cell_text(const Cell& c, const std::optional<std::size_t>& metric) {
  std::string notes;
  if (c.diverged > 0) notes += fmt::format(" {}div", c.diverged);
  if (c.failed > 0) notes += fmt::format(" {}fail", c.failed);
  if (c.pending > 0) notes += fmt::format(" {}pend", c.pending);
  if (c.done.empty()) return notes.empty() ? "-" : notes.substr(1);
  const std::string values = metric ? mean_std(c.done, *metric) : mean_std(c.done, 0) + " / " + mean_std(c.done, 1);
  return values + notes;
}

std::string axis_value(const spec::SweepSpec& spec, std::size_t axis, std::int64_t v) {
  return science::format_value(spec.axes[axis].values[static_cast<std::size_t>(v)]);
}

std::int64_t value_count(const spec::SweepSpec& spec, const std::optional<std::size_t>& axis) {
  return axis ? static_cast<std::int64_t>(spec.axes[*axis].values.size()) : 1;
}

void print_table(const spec::SweepSpec& spec, const Layout& layout,
                 const std::map<std::pair<std::int64_t, std::int64_t>, Cell>& cells,
                 const std::optional<std::size_t>& metric) {
  const auto n_rows = value_count(spec, layout.row_axis), n_cols = value_count(spec, layout.col_axis);
  std::vector<std::vector<std::string>> text(static_cast<std::size_t>(n_rows + 1),
                                             std::vector<std::string>(static_cast<std::size_t>(n_cols + 1)));
  const std::string row_name = layout.row_axis ? spec.axes[*layout.row_axis].name : "";
  text[0][0] = layout.col_axis ? fmt::format("{} \\ {}", row_name, spec.axes[*layout.col_axis].name) : row_name;
  for (std::int64_t c = 0; c < n_cols; ++c) {
    text[0][static_cast<std::size_t>(c + 1)] =
        layout.col_axis ? axis_value(spec, *layout.col_axis, c)
                        : std::string(metric ? science::metric_names[*metric] : "true / spurious");
  }
  for (std::int64_t r = 0; r < n_rows; ++r) {
    text[static_cast<std::size_t>(r + 1)][0] = layout.row_axis ? axis_value(spec, *layout.row_axis, r) : "all";
    for (std::int64_t c = 0; c < n_cols; ++c) {
      const auto cell = cells.find({r, c});
      text[static_cast<std::size_t>(r + 1)][static_cast<std::size_t>(c + 1)] =
          cell == cells.end() ? "-" : cell_text(cell->second, metric);
    }
  }
  std::vector<std::size_t> widths(text[0].size(), 0);
  for (const auto& line : text) {
    for (std::size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], fmt::formatted_size("{}", line[c]));
  }
  for (const auto& line : text) {
    std::string out;
    for (std::size_t c = 0; c < line.size(); ++c) {
      out += fmt::format("{}{:>{}}", c == 0 ? "" : "  ", line[c], widths[c]);
    }
    fmt::print("{}\n", out);
  }
}

int run_report(const ReportOptions& options) {
  const auto reader = open_results_or_usage_error(options.path);
  const auto& spec = reader->spec();
  const auto layout = choose_layout(spec, options);
  const auto metric = metric_index(options.metric);

  // Table (its axes' value indices) -> (row value, column value) -> the replicates of that grid point.
  std::map<std::vector<std::int64_t>, std::map<std::pair<std::int64_t, std::int64_t>, Cell>> tables;
  reader->visit_rows([&](const store::RowSummary& row) {
    // A cell holds the replicates of one grid point; refinement runs lie between grid points.
    if (row.origin != store::RowOrigin::grid) return;
    const bool selected = std::all_of(layout.where.begin(), layout.where.end(), [&](const auto& condition) {
      return row.coords[condition.first] == condition.second;
    });
    if (!selected) return;
    std::vector<std::int64_t> table;
    for (auto a : layout.table_axes) table.push_back(row.coords[a]);
    auto& cell = tables[table][{layout.row_axis ? row.coords[*layout.row_axis] : 0,
                                layout.col_axis ? row.coords[*layout.col_axis] : 0}];
    switch (row.status) {
      case science::RowStatus::done:
        cell.done.push_back(row.final_metrics);
        break;
      case science::RowStatus::diverged:
        ++cell.diverged;
        break;
      case science::RowStatus::failed:
        ++cell.failed;
        break;
      case science::RowStatus::pending:
        ++cell.pending;
        break;
    }
  });

  std::string selection;
  for (const auto& [axis, v] : layout.where)
    selection += fmt::format(", {} {}", spec.axes[axis].name, axis_value(spec, axis, v));
  fmt::print(
      "{}: sweep {}{}. Cells: final {}, mean±std over the {} replicates of done runs (div, fail, pend: runs "
      "diverged, failed, pending)\n",
      options.path, spec.name, selection,
      metric ? std::string(science::metric_names[*metric]) : std::string("true_signal / spurious_signal"),
      spec.replicates);
  for (const auto& [table, cells] : tables) {
    std::string heading;
    for (std::size_t i = 0; i < table.size(); ++i) {
      heading += fmt::format("{}{} {}", i == 0 ? "" : ", ", spec.axes[layout.table_axes[i]].name,
                             axis_value(spec, layout.table_axes[i], table[i]));
    }
    fmt::print("\n{}", heading.empty() ? std::string() : heading + "\n");
    print_table(spec, layout, cells, metric);
  }
  return exit_success;
}

}  // namespace

std::function<int()> add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  auto* command = app.add_subcommand(
      "report", "Tables of final metrics, mean±std over replicates: one table per combination of the other axes");
  command->add_option("results", options->path, "the results file (HDF5)")->required();
  command->add_option("--rows", options->rows, "the axis down the table (default heterogeneity)");
  command->add_option("--cols", options->cols, "the axis across the table (default step_size, when an axis)");
  command->add_option("--metric", options->metric,
                      "one final metric: true_signal, spurious_signal, err_invariant, err_pooled or loss (default: "
                      "true_signal / spurious_signal)");
  command->add_option("--where", options->where, "AXIS=VALUE: only the runs with that value (repeatable)")
      ->allow_extra_args(false);
  return [options] { return run_report(*options); };
}

}  // namespace hetsweep::cli
