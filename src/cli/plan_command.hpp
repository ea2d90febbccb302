#pragma once
// `hetsweep plan SPEC`: validate a spec and show its grid, size and estimated cost without running it.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_plan_command(CLI::App& app);

}  // namespace hetsweep::cli
