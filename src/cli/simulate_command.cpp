#include "cli/simulate_command.hpp"

#include <fmt/format.h>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "cli/exit_codes.hpp"
#include "science/footprint.hpp"
#include "science/params.hpp"
#include "science/simulate.hpp"
#include "spec/sweep_spec.hpp"

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
  std::string seed = "0";
  bool json = false;
};

// The flags are validated as a spec's `fixed` values are: each value read and range-checked by the spec's own
// reader (same syntax, same messages), then the same consistency and memory checks, so the two cannot drift.
science::Params params_from_flags(const SimulateOptions& options) {
  science::Params params;
  for (const auto& [name, text] : options.given) {
    const auto flag = "--" + flag_name(name);
    const auto& spec = *science::find_parameter(name);
    try {
      spec.set(params, spec::parse_parameter_text(spec, text, flag));
    } catch (const spec::SpecError& e) {
      throw UsageError(fmt::format("{}: {}", flag, e.reason()));
    }
  }
  if (const auto problems = science::check_consistency(params); !problems.empty()) {
    throw UsageError(fmt::format("--{}: {}", flag_name(problems.front().key), problems.front().message));
  }
  if (const auto problem = science::check_memory(params, science::run_memory_limit())) {
    throw UsageError(fmt::format("--{}: {}", flag_name(problem->key), problem->message));
  }
  return params;
}

std::uint64_t seed_from_flag(const std::string& text) {
  try {
    return spec::parse_seed_text(text, "--seed");
  } catch (const spec::SpecError& e) {
    throw UsageError(fmt::format("--seed: {}", e.reason()));
  }
}

std::string_view status_name(science::RunStatus status) {
  switch (status) {
    case science::RunStatus::done:
      return "done";
    case science::RunStatus::diverged:
      return "diverged";
    case science::RunStatus::interrupted:
      return "interrupted";
  }
  return "unknown";
}

int run_simulate(const SimulateOptions& options) {
  const auto params = params_from_flags(options);
  const auto seed = seed_from_flag(options.seed);
  const auto start = std::chrono::steady_clock::now();
  const auto result = science::simulate(params, seed);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (options.json) {
    const auto& m = result.final_metrics;
    fmt::print("{{\"status\": \"{}\", \"steps_done\": {}", status_name(result.status), result.steps_done);
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
  auto* command =
      app.add_subcommand("simulate", "Run one simulation and print its trajectory (CSV) or final state (JSON)");
  for (const auto& spec : science::parameters()) {
    const std::string name(spec.name);
    command->add_option_function<std::string>(
        "--" + flag_name(spec.name), [options, name](const std::string& text) { options->given[name] = text; },
        std::string(spec.help));
  }
  // Read as text and parsed strictly below: CLI11 would wrap -1 and clamp 2^64 to 2^64 - 1.
  command->add_option("--seed", options->seed, "the run's seed, 0 to 18446744073709551615")->capture_default_str();
  command->add_flag("--json", options->json,
                    "print one JSON object with the final state instead of the CSV trajectory");
  return [options] { return run_simulate(*options); };
}

}  // namespace hetsweep::cli
