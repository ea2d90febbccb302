#pragma once
// `hetsweep report OUT`: final metrics, mean +- std over replicates, as tables of one axis down (default
// heterogeneity) by one across (default step_size), one table per value combination of the other axes.
// Only replicates are ever averaged; `--where AXIS=VALUE` picks one value of an axis instead.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_report_command(CLI::App& app);

}  // namespace hetsweep::cli
