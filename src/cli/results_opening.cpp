#include "cli/results_opening.hpp"

#include "cli/exit_codes.hpp"

namespace hetsweep::cli {

std::unique_ptr<store::ResultsReader> open_results_or_usage_error(const std::filesystem::path& path) {
  try {
    return std::make_unique<store::ResultsReader>(path);
  } catch (const store::ResultsFileError& e) {
    throw UsageError(e.what());
  }
}

}  // namespace hetsweep::cli
