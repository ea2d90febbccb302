#pragma once
// Opening a results file for reading in a command: a file that is not usable becomes a UsageError.

#include <filesystem>
#include <memory>

#include "store/results_file.hpp"

namespace hetsweep::cli {

std::unique_ptr<store::ResultsReader> open_results_or_usage_error(const std::filesystem::path& path);

}  // namespace hetsweep::cli
