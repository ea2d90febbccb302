#pragma once
// `hetsweep status OUT`: how far a sweep is, overall and per axis value, with rate and ETA. Opens the file
// read-only, so it works while a sweep is writing it.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_status_command(CLI::App& app);

}  // namespace hetsweep::cli
