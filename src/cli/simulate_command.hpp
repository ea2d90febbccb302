#pragma once
// `hetsweep simulate`: one run from command-line flags, printed as CSV or JSON.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

// Adds the subcommand to `app`; the returned function runs it after parsing and gives the exit code.
std::function<int()> add_simulate_command(CLI::App& app);

}  // namespace hetsweep::cli
