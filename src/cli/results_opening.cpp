#include "cli/results_opening.hpp"

#include <fmt/format.h>

#include "cli/exit_codes.hpp"

namespace hetsweep::cli {

std::unique_ptr<store::ResultsReader> open_results_or_usage_error(const std::filesystem::path& path) {
  try {
    return std::make_unique<store::ResultsReader>(path);
  } catch (const store::ResultsFileError& e) {
    throw UsageError(e.what());
  }
}

std::unique_ptr<store::ResultsWriter> open_writer_or_usage_error(const std::filesystem::path& path,
                                                                 const spec::SweepSpec& spec, bool restart,
                                                                 bool retry_failed) {
  const auto mode = restart        ? store::OpenMode::restart
                    : retry_failed ? store::OpenMode::retry_failed
                                   : store::OpenMode::create_or_resume;
  try {
    return std::make_unique<store::ResultsWriter>(path, spec, mode);
  } catch (const store::ResultsFileError& e) {
    throw UsageError(e.replaceable() ? fmt::format("{}; or choose another output path, or run with --restart to "
                                                   "replace the file",
                                                   e.what())
                                     : std::string(e.what()));
  }
}

}  // namespace hetsweep::cli
