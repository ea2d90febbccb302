#pragma once
// `hetsweep merge OUT IN...`: combines results files of one spec (shards, or partial copies) into OUT.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_merge_command(CLI::App& app);

}  // namespace hetsweep::cli
