#include "cli/plan_command.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <span>

#include "cli/exit_codes.hpp"
#include "cli/spec_loading.hpp"
#include "refine/bisection.hpp"
#include "science/footprint.hpp"
#include "science/simulate.hpp"
#include "spec/grid.hpp"
#include "spec/refine_spec.hpp"

namespace hetsweep::cli {
namespace {

// Arithmetic of one step in rough floating-point operations (a normal draw counted as 4), from what the
// samplers compute: X = U U^T and the gradient's product (2 d^2 k), plus per sampled measurement its draws and
// two dot products. Only the ratio between classes matters: it extrapolates a timed class to one too large
// to time.
double step_work(const science::Params& p) {
  const auto d = static_cast<double>(p.dim);
  const auto k = static_cast<double>(p.effective_width());
  const auto K = static_cast<double>(p.environments);
  const auto m = static_cast<double>(p.batch_size);
  const double packed = d * (d + 1) / 2;
  constexpr double normal = 4;
  const double products = 2 * d * d * k;
  const bool pooled = p.algorithm == science::Algorithm::pooled || p.algorithm == science::Algorithm::pooled_gd;
  switch (p.algorithm) {
    case science::Algorithm::hetero_gd:
    case science::Algorithm::pooled_gd:
      return products + (pooled ? K : 1) * d * d;
    case science::Algorithm::hetero:
    case science::Algorithm::pooled:
      break;
  }
  if (p.sensing == science::Sensing::rank_one) return products + m * d * (normal + 2 * k);
  if (p.effective_sampler() == science::Sampler::materialized) return products + m * packed * (normal + 2);
  // Exact: the packed differences of the step's environments, their Gram-Schmidt basis and one Wishart
  // factor per environment.
  const double columns = pooled ? K : 1;
  const double rank = std::min(columns, packed);
  return products + columns * (d * d + 4 * packed * rank + (rank + 1) * (rank + 1)) + packed * (normal + 2 * rank);
}

// Building a run before its first step: allocating and filling its buffers, and a Haar rotation's QR.
double setup_work(const science::Params& p) {
  const auto d = static_cast<double>(p.dim);
  return science::estimate_run_memory(p).bytes / 8 + (p.basis == science::Basis::random ? 4 * d * d * d : 0);
}

// Seconds per step of each cost class. A class is timed on a short run of this machine when its predicted
// time fits what is left of a fixed budget, so plan answers within about a second whatever the spec; the
// others are extrapolated from their work at the rate (seconds per operation) of the largest class timed.
class StepTimer {
 public:
  double seconds_per_step(const science::Params& p) {
    // First the machine's rate, on the default model's materialized sampler (about 15 ms), to decide what
    // else fits the budget.
    if (measured_rate_ == 0) {
      science::Params reference;
      reference.sampler = science::Sampler::materialized;
      (void)time_steps(reference, reference_steps);
    }
    const double work = step_work(p);
    const double setup = setup_work(p);
    const double left = budget_seconds - spent_;
    const double per_probe_step = work * rate();
    const auto probe_steps = static_cast<std::int64_t>(
        std::min<double>(max_probe_steps, (left / 2 - 2 * setup * rate()) / std::max(per_probe_step, 1e-12)));
    if (probe_steps < min_probe_steps) {
      ++extrapolated_;
      return work * rate();
    }
    ++timed_;
    return time_steps(p, probe_steps);
  }
  [[nodiscard]] int timed() const { return timed_; }
  [[nodiscard]] int extrapolated() const { return extrapolated_; }

 private:
  static constexpr double budget_seconds = 0.4;
  static constexpr std::int64_t max_probe_steps = 100, min_probe_steps = 2, reference_steps = 20;

  // Seconds per step of `p`: a run of `steps` steps less a run of none, so building the run is not counted.
  // Updates the rate.
  double time_steps(science::Params p, std::int64_t steps) {
    const auto seconds_of_run = [&](std::int64_t run_steps) {
      p.steps = run_steps;
      p.record_every = std::max<std::int64_t>(run_steps, 1);
      const auto start = std::chrono::steady_clock::now();
      (void)science::simulate(p, 1);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      spent_ += seconds;
      return seconds;
    };
    const double setup = seconds_of_run(0);
    const double total = seconds_of_run(steps);
    // Timer noise may leave less than nothing; a step costs at least a little.
    const double per_step = std::max(total - setup, total / 100) / static_cast<double>(steps);
    // The largest class timed is the most like the ones too large to time (fixed costs weigh least there).
    const double work = step_work(p);
    if (work > rate_work_) {
      rate_work_ = work;
      measured_rate_ = per_step / std::max(work, 1.0);
    }
    return per_step;
  }
  // Before the reference is timed: a cautious nanosecond per operation.
  [[nodiscard]] double rate() const { return measured_rate_ > 0 ? measured_rate_ : 1e-9; }

  double spent_ = 0;
  double measured_rate_ = 0;
  double rate_work_ = 0;
  int timed_ = 0;
  int extrapolated_ = 0;
};

// Calls visit(params, runs) once for every combination of the values of the axes among `names`, with the
// number of runs of the sweep that share it (the other axes and the replicates).
template <class Visit>
void for_each_cost_combination(const spec::SweepSpec& spec, std::span<const std::string_view> names, Visit visit) {
  std::vector<const spec::Axis*> axes;
  std::vector<const science::ParamSpec*> params_of_axes;
  double runs_each = static_cast<double>(spec.replicates);
  for (const auto& axis : spec.axes) {
    if (std::find(names.begin(), names.end(), axis.name) != names.end()) {
      axes.push_back(&axis);
      params_of_axes.push_back(science::find_parameter(axis.name));
    } else {
      runs_each *= static_cast<double>(axis.values.size());
    }
  }
  std::vector<std::size_t> index(axes.size(), 0);
  science::Params params = spec.base;
  while (true) {
    for (std::size_t a = 0; a < axes.size(); ++a) params_of_axes[a]->set(params, axes[a]->values[index[a]]);
    visit(params, runs_each);
    std::size_t a = axes.size();
    while (a > 0 && ++index[a - 1] == axes[a - 1]->values.size()) index[--a] = 0;
    if (a == 0) return;
  }
}

// What a step's cost depends on: runs that agree on these cost the same per step, so each combination of
// them is timed or extrapolated once.
constexpr std::array<std::string_view, 8> cost_inputs{"dim",     "width",   "batch_size", "environments",
                                                      "sensing", "sampler", "algorithm",  "basis"};

// The mean number of steps of the sweep's runs: the steps axis's mean, or the fixed value. The steps are
// independent of the cost inputs, so a combination's runs have this mean too.
double mean_steps(const spec::SweepSpec& spec) {
  for (const auto& axis : spec.axes) {
    if (axis.name != "steps") continue;
    double sum = 0;
    for (const auto& value : axis.values) sum += static_cast<double>(std::get<std::int64_t>(value));
    return sum / static_cast<double>(axis.values.size());
  }
  return static_cast<double>(spec.base.steps);
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

int run_plan(const std::string& path, bool name_only) {
  const auto spec = load_spec_or_usage_error(path);
  if (name_only) {
    fmt::print("{}\n", spec.name);
    return exit_success;
  }
  const spec::Grid grid(spec);
  fmt::print("sweep {} (seed {})\n", spec.name, spec.seed);
  fmt::print("axes:\n");
  for (const auto& axis : spec.axes)
    fmt::print("  {:<22} {:>5} values: {}\n", axis.name, axis.values.size(), value_list(axis));
  fmt::print("  {:<22} {:>5}\n", "replicates", spec.replicates);
  fmt::print("fixed:\n");
  for (const auto& parameter : science::parameters()) {
    const bool swept =
        std::any_of(spec.axes.begin(), spec.axes.end(), [&](const auto& a) { return a.name == parameter.name; });
    if (!swept) fmt::print("  {:<22} {}\n", parameter.name, science::format_value(parameter.get(spec.base)));
  }

  StepTimer timer;
  const double steps_per_run = mean_steps(spec);
  double total_steps = 0, total_samples = 0, cpu_seconds = 0;
  for_each_cost_combination(spec, cost_inputs, [&](const science::Params& p, double runs) {
    const auto steps = runs * steps_per_run;
    total_steps += steps;
    const bool sampled = p.algorithm == science::Algorithm::hetero || p.algorithm == science::Algorithm::pooled;
    total_samples += sampled ? steps * static_cast<double>(p.batch_size) : 0.0;
    cpu_seconds += steps * timer.seconds_per_step(p);
  });
  fmt::print("runs: {}\n", grid.size());
  if (spec.refine) {
    // Refinement adds runs as results come in; plan bounds them (bisection.hpp) and leaves them out of the cost.
    const auto& axis =
        *std::find_if(spec.axes.begin(), spec.axes.end(), [&](const auto& a) { return a.name == spec.refine->axis; });
    const auto combinations = grid.size() / spec.replicates / static_cast<std::int64_t>(axis.values.size());
    const auto per_combination = refine::max_points_per_combination(spec) * spec.replicates;
    fmt::print("refine: {}\n", spec::describe(*spec.refine));
    fmt::print(
        "refinement adds up to {} runs per combination of the other axes ({} combinations: up to {} runs; not "
        "in the cost below)\n",
        per_combination, combinations, per_combination * combinations);
  }
  fmt::print("SGD steps: {:.4g} in all ({:.4g} sampled sensing measurements)\n", total_steps, total_samples);
  const auto classes = timer.extrapolated() == 0
                           ? fmt::format("{} step-cost classes timed", timer.timed())
                           : fmt::format("{} step-cost classes timed, {} extrapolated from their operation counts",
                                         timer.timed(), timer.extrapolated());
  fmt::print(
      "estimated cost: {:.3g} CPU-seconds on this machine ({}), about {:.3g} s with 2 workers, {:.3g} s "
      "with 16\n",
      cpu_seconds, classes, cpu_seconds / 2, cpu_seconds / 16);
  return exit_success;
}

}  // namespace

std::function<int()> add_plan_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* command = app.add_subcommand("plan", "Validate a sweep spec and print its grid, size and estimated cost");
  command->add_option("spec", *path, "the sweep spec (YAML)")->required();
  auto name_only = std::make_shared<bool>(false);
  command->add_flag("--name", *name_only,
                    "print only the sweep's name (its `name:`, else the spec's file name without the extension), "
                    "once the spec is valid");
  return [path, name_only] { return run_plan(*path, *name_only); };
}

}  // namespace hetsweep::cli
