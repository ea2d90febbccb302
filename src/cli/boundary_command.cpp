#include "cli/boundary_command.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"
#include "store/layout.hpp"

namespace hetsweep::cli {
namespace {

using Json = nlohmann::ordered_json;

struct BoundaryOptions {
  std::string path;
  bool json = false;
};

std::string_view direction_name(spec::Crossing::Direction direction) {
  return store::layout::direction_names.at(static_cast<std::size_t>(direction));
}

// A real as JSON: a number, or null when it is not finite (JSON has no NaN or infinity).
Json real_json(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

void print_json(const spec::SweepSpec& spec, const std::vector<spec::Crossing>& crossings) {
  const auto axes = store::layout::boundary_axes(spec);
  Json list = Json::array();
  for (const auto& crossing : crossings) {
    Json where = Json::object();
    for (std::size_t a = 0; a < axes.size(); ++a) {
      where[axes[a]] = std::visit([](const auto& v) { return Json(v); }, crossing.where[a]);
    }
    list.push_back(Json{{"axis", spec.refine->axis},
                        {"where", std::move(where)},
                        {"lo", real_json(crossing.lo)},
                        {"hi", real_json(crossing.hi)},
                        {"direction", direction_name(crossing.direction)},
                        {"estimate", real_json(crossing.estimate)},
                        {"runs", crossing.runs}});
  }
  fmt::print("{}\n", list.dump(2));
}

void print_table(const std::string& path, const spec::SweepSpec& spec, const std::vector<spec::Crossing>& crossings) {
  const auto& refine = *spec.refine;
  fmt::print("{}: {} crossing{} of final_{} = {} along {} (tolerance {})\n", path, crossings.size(),
             crossings.size() == 1 ? "" : "s", refine.metric, science::format_value(refine.threshold), refine.axis,
             science::format_value(refine.tolerance));
  if (crossings.empty()) return;
  std::vector<std::string> header = store::layout::boundary_axes(spec);
  for (const char* column : {"lo", "hi", "direction", "estimate", "runs"}) header.emplace_back(column);
  std::vector<std::vector<std::string>> lines;
  for (const auto& crossing : crossings) {
    std::vector<std::string> line;
    for (const auto& value : crossing.where) line.push_back(science::format_value(value));
    line.push_back(science::format_value(crossing.lo));
    line.push_back(science::format_value(crossing.hi));
    line.emplace_back(direction_name(crossing.direction));
    line.push_back(science::format_value(crossing.estimate));
    line.push_back(std::to_string(crossing.runs));
    lines.push_back(std::move(line));
  }
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
    for (const auto& line : lines) widths[c] = std::max(widths[c], line[c].size());
  }
  const auto print_line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c)
      text += fmt::format("{}{:>{}}", c == 0 ? "" : "  ", cells[c], widths[c]);
    fmt::print("{}\n", text);
  };
  print_line(header);
  for (const auto& line : lines) print_line(line);
}

int run_boundary(const BoundaryOptions& options) {
  const auto reader = open_results_or_usage_error(options.path);
  const auto& spec = reader->spec();
  if (!spec.refine) {
    throw UsageError(
        fmt::format("{}: its sweep spec has no refine block, so it has no boundary to show", options.path));
  }
  const auto crossings = reader->boundary();
  if (!crossings) {
    throw UsageError(
        fmt::format("{}: has no /boundary yet (made before refinement existed); resume it with its "
                    "spec to add one",
                    options.path));
  }
  if (options.json) {
    print_json(spec, *crossings);
  } else {
    print_table(options.path, spec, *crossings);
  }
  return exit_success;
}

}  // namespace

std::function<int()> add_boundary_command(CLI::App& app) {
  auto options = std::make_shared<BoundaryOptions>();
  auto* command =
      app.add_subcommand("boundary", "The crossings adaptive refinement located (works while the sweep runs)");
  command->add_option("results", options->path, "the results file (HDF5)")->required();
  command->add_flag("--json", options->json,
                    "print a JSON list of {axis, where, lo, hi, direction, estimate, runs} objects");
  return [options] { return run_boundary(*options); };
}

}  // namespace hetsweep::cli
