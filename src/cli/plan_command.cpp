#include "cli/plan_command.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <tuple>

#include "cli/exit_codes.hpp"
#include "cli/spec_loading.hpp"
#include "science/simulate.hpp"
#include "spec/grid.hpp"

namespace hetsweep::cli {
namespace {

// What a step's cost depends on; runs that agree on these cost the same per step.
using CostClass = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, science::Sensing,
                             science::Sampler, science::Algorithm>;

CostClass cost_class(const science::Params& p) {
  return {p.dim, p.effective_width(), p.batch_size, p.environments, p.sensing, p.effective_sampler(), p.algorithm};
}

// Seconds per step of a class, timed on this machine over a short run.
double seconds_per_step(science::Params p) {
  constexpr std::int64_t probe_steps = 30;
  p.steps = probe_steps;
  p.record_every = probe_steps;
  const auto start = std::chrono::steady_clock::now();
  (void)science::simulate(p, 1);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / probe_steps;
}

std::string value_list(const spec::Axis& axis) {
  std::vector<std::string> text;
  for (const auto& v : axis.values) text.push_back(science::format_value(v));
  if (text.size() > 8) {
    text.erase(text.begin() + 3, text.end() - 2);
    text.insert(text.begin() + 3, "...");
  }
  return fmt::format("{}", fmt::join(text, ", "));
}

int run_plan(const std::string& path) {
  const auto spec = load_spec_or_usage_error(path);
  const spec::Grid grid(spec);
  fmt::print("sweep {} (seed {})\n", spec.name, spec.seed);
  fmt::print("axes:\n");
  for (const auto& axis : spec.axes) fmt::print("  {:<22} {:>5} values: {}\n", axis.name, axis.values.size(), value_list(axis));
  fmt::print("  {:<22} {:>5}\n", "replicates", spec.replicates);
  fmt::print("fixed:\n");
  for (const auto& parameter : science::parameters()) {
    const bool swept = std::any_of(spec.axes.begin(), spec.axes.end(), [&](const auto& a) { return a.name == parameter.name; });
    if (!swept) fmt::print("  {:<22} {}\n", parameter.name, science::format_value(parameter.get(spec.base)));
  }

  std::map<CostClass, double> per_step;
  double total_steps = 0, total_samples = 0, cpu_seconds = 0;
  for (std::int64_t i = 0; i < grid.size(); ++i) {
    const auto point = grid.point(i);
    const auto& p = point.params;
    auto [entry, inserted] = per_step.try_emplace(cost_class(p), 0.0);
    if (inserted) entry->second = seconds_per_step(p);
    total_steps += static_cast<double>(p.steps);
    const bool sampled = p.algorithm == science::Algorithm::hetero || p.algorithm == science::Algorithm::pooled;
    total_samples += sampled ? static_cast<double>(p.steps) * static_cast<double>(p.batch_size) : 0.0;
    cpu_seconds += static_cast<double>(p.steps) * entry->second;
  }
  fmt::print("runs: {}\n", grid.size());
  fmt::print("SGD steps: {:.4g} in all ({:.4g} sampled sensing measurements)\n", total_steps, total_samples);
  fmt::print("estimated cost: {:.3g} CPU-seconds on this machine ({} step-cost classes timed), about {:.3g} s "
             "with 2 workers, {:.3g} s with 16\n",
             cpu_seconds, per_step.size(), cpu_seconds / 2, cpu_seconds / 16);
  return exit_success;
}

}  // namespace

std::function<int()> add_plan_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* command = app.add_subcommand("plan", "Validate a sweep spec and print its grid, size and estimated cost");
  command->add_option("spec", *path, "the sweep spec (YAML)")->required();
  return [path] { return run_plan(*path); };
}

}  // namespace hetsweep::cli
