#pragma once
// Reading a sweep spec for a command: a spec error becomes a UsageError with the file, line, column and key.

#include <filesystem>

#include "spec/sweep_spec.hpp"

namespace hetsweep::cli {

spec::SweepSpec load_spec_or_usage_error(const std::filesystem::path& path);

}  // namespace hetsweep::cli
