#include "cli/simulate_command.hpp"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <string>

#include "cli/exit_codes.hpp"
#include "science/params.hpp"
#include "science/simulate.hpp"

namespace hetsweep::cli {
namespace {

std::string flag_name(std::string_view parameter) {
  std::string flag(parameter);
  for (auto& c : flag) {
    if (c == '_') c = '-';
  }
  return flag;
}

// JSON has no NaN or infinity: a diverged run's metrics print as null.
std::string json_number(double x) { return std::isfinite(x) ? fmt::format("{}", x) : std::string("null"); }

struct SimulateOptions {
  std::map<std::string, std::string> given;  // parameter name -> flag text
  std::uint64_t seed = 0;
  bool json = false;
};

science::Params params_from_flags(const SimulateOptions& options) {
  science::Params params;
  for (const auto& [name, text] : options.given) {
    const auto* spec = science::find_parameter(name);
    const auto value = science::parse_value(*spec, text);
    if (!value) {
      throw UsageError(fmt::format("--{}: '{}' is not {}", flag_name(name), text,
                                   spec->kind == science::ParamKind::integer ? "an integer" : "a number"));
    }
    if (auto problem = science::check_value(*spec, *value)) {
      throw UsageError(fmt::format("--{}: {}", flag_name(name), *problem));
    }
    spec->set(params, *value);
  }
  if (const auto problems = science::check_consistency(params); !problems.empty()) {
    throw UsageError(fmt::format("--{}: {}", flag_name(problems.front().key), problems.front().message));
  }
  return params;
}

int run_simulate(const SimulateOptions& options) {
  const auto params = params_from_flags(options);
  const auto start = std::chrono::steady_clock::now();
  const auto result = science::simulate(params, options.seed);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (options.json) {
    const auto& m = result.final_metrics();
    fmt::print("{{\"status\": \"{}\", \"steps_done\": {}", result.status == science::RunStatus::done ? "done" : "diverged",
               result.steps_done);
    for (std::size_t i = 0; i < science::metric_names.size(); ++i) {
      fmt::print(", \"{}\": {}", science::metric_names[i], json_number(m.*science::metric_fields[i]));
    }
    fmt::print(", \"wall_seconds\": {}}}\n", wall);
    return exit_success;
  }
  fmt::print("step,{}\n", fmt::join(science::metric_names, ","));
  for (const auto& record : result.records) {
    fmt::print("{}", record.step);
    for (auto field : science::metric_fields) fmt::print(",{}", record.metrics.*field);
    fmt::print("\n");
  }
  return exit_success;
}

}  // namespace

std::function<int()> add_simulate_command(CLI::App& app) {
  auto options = std::make_shared<SimulateOptions>();
  auto* command = app.add_subcommand("simulate", "Run one simulation and print its trajectory (CSV) or final state (JSON)");
  for (const auto& spec : science::parameters()) {
    const std::string name(spec.name);
    command->add_option_function<std::string>(
        "--" + flag_name(spec.name), [options, name](const std::string& text) { options->given[name] = text; },
        std::string(spec.help));
  }
  command->add_option("--seed", options->seed, "the run's seed")->capture_default_str();
  command->add_flag("--json", options->json, "print one JSON object with the final state instead of the CSV trajectory");
  return [options] { return run_simulate(*options); };
}

}  // namespace hetsweep::cli
