#pragma once
// `hetsweep boundary OUT`: the crossings adaptive refinement located (/boundary), as a table or JSON. Opens the
// file read-only, so it works while a sweep is writing it.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_boundary_command(CLI::App& app);

}  // namespace hetsweep::cli
