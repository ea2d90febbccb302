#pragma once
// Opening a results file in a command: a file that cannot be used as asked becomes a UsageError.

#include <filesystem>
#include <memory>

#include "store/results_file.hpp"

namespace hetsweep::cli {

std::unique_ptr<store::ResultsReader> open_results_or_usage_error(const std::filesystem::path& path);
// Creates or resumes (or with `restart` replaces) the results file of `spec` at `path` for writing; with
// `retry_failed` its failed runs are computed again.
std::unique_ptr<store::ResultsWriter> open_writer_or_usage_error(const std::filesystem::path& path,
                                                                 const spec::SweepSpec& spec, bool restart,
                                                                 bool retry_failed = false);

}  // namespace hetsweep::cli
