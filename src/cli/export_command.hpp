#pragma once
// `hetsweep export OUT --csv FILE`: one CSV row per run, decoded (parameter and status names as text), for
// pandas, R or a spreadsheet. Works while a sweep writes the file.

#include <CLI/CLI.hpp>
#include <functional>

namespace hetsweep::cli {

std::function<int()> add_export_command(CLI::App& app);

}  // namespace hetsweep::cli
