#pragma once
// `hetsweep run SPEC -o OUT`: the sweep, under mpirun/srun (rank 0 the master) or alone.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_run_command(CLI::App& app);

}  // namespace hetsweep::cli
