#pragma once
// `hetsweep verify OUT [--recompute N|all] [--seed S]`: checks a results file completely (structure,
// checksums, rows against the spec, trajectories, cube) and optionally computes chosen runs again to compare
// them bit for bit. Exit 0 clean, 1 problems found (each listed), 2 not a usable results file or bad flags.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_verify_command(CLI::App& app);

}  // namespace hetsweep::cli
