#pragma once
// `hetsweep report OUT`: the final true and spurious signal, mean +- std over replicates, per
// heterogeneity x step_size, one table per batch_size and algorithm.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_report_command(CLI::App& app);

}  // namespace hetsweep::cli
