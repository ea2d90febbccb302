#include "cli/export_command.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cli/csv.hpp"
#include "cli/exit_codes.hpp"
#include "cli/results_opening.hpp"
#include "cli/row_values.hpp"
#include "spec/grid.hpp"

namespace hetsweep::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 4> status_names{"pending", "done", "diverged", "failed"};

struct ExportOptions {
  std::string path;
  std::string csv;
  bool force = false;
};

std::vector<std::string> header() {
  std::vector<std::string> names{"run", "key"};
  for (const auto& parameter : science::parameters()) names.emplace_back(parameter.name);
  for (const char* name : {"replicate", "seed", "status", "steps_done", "wall_seconds", "finished_at"})
    names.emplace_back(name);
  for (const auto& metric : science::metric_names) names.push_back(fmt::format("final_{}", metric));
  names.emplace_back("origin");
  return names;
}

std::string csv_text(const spec::SweepSpec& spec, const std::vector<store::RowSummary>& rows) {
  std::string text = csv_line(header());
  std::vector<std::string> fields;
  for (const auto& row : rows) {
    const bool pending = row.status == science::RowStatus::pending;
    fields.clear();
    fields.push_back(std::to_string(row.row));
    fields.push_back(std::to_string(row.key));
    for (const auto& parameter : science::parameters()) {
      fields.push_back(csv_field(science::format_value(row_value(spec, row, parameter.name))));
    }
    fields.push_back(std::to_string(row.replicate));
    fields.push_back(std::to_string(spec::run_seed(spec.seed, row.key)));
    fields.emplace_back(status_names[static_cast<std::size_t>(row.status)]);
    fields.push_back(std::to_string(row.steps_done));
    // A pending row has no time or metrics yet: empty fields, read as missing.
    fields.push_back(pending ? std::string() : csv_real(row.wall_seconds));
    fields.push_back(pending ? std::string() : csv_real(row.finished_at));
    for (const auto field : science::metric_fields)
      fields.push_back(pending ? std::string() : csv_real(row.final_metrics.*field));
    fields.emplace_back(row.origin == store::RowOrigin::refine ? "refine" : "grid");
    text += csv_line(fields);
  }
  return text;
}

// Writes `text` to `target` through a temporary file beside it, so a failure leaves no partial file.
void write_file(const fs::path& target, const std::string& text, bool force) {
  if (fs::exists(target) && !force) {
    throw UsageError(fmt::format("{}: exists; choose another path, or pass --force to replace it", target.string()));
  }
  if (fs::is_directory(target)) throw UsageError(fmt::format("{}: is a directory", target.string()));
  const fs::path temporary = target.parent_path() / fmt::format(".{}.{}.tmp", target.filename().string(), getpid());
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  if (file == nullptr) {
    throw UsageError(fmt::format("{}: cannot be written: {}", target.string(), std::strerror(errno)));
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    const int error = errno;
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw SystemFailure(
        fmt::format("{}: writing failed: {}; nothing was written", target.string(), std::strerror(error)));
  }
  fs::rename(temporary, target);
}

int run_export(const ExportOptions& options) {
  const auto reader = open_results_or_usage_error(options.path);
  const auto text = csv_text(reader->spec(), reader->rows());
  if (options.csv == "-") {
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
      throw SystemFailure(fmt::format("writing to standard output failed: {}", std::strerror(errno)));
    }
  } else {
    write_file(options.csv, text, options.force);
  }
  return exit_success;
}

}  // namespace

std::function<int()> add_export_command(CLI::App& app) {
  auto options = std::make_shared<ExportOptions>();
  auto* command =
      app.add_subcommand("export", "Write the results as CSV, one row per run (works while the sweep runs)");
  command->add_option("results", options->path, "the results file (HDF5)")->required();
  command->add_option("--csv", options->csv, "the CSV file to write, - for standard output")->required();
  command->add_flag("--force", options->force, "replace the CSV file if it exists");
  return [options] { return run_export(*options); };
}

}  // namespace hetsweep::cli
