#include "science/params.hpp"

#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace hetsweep::science {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

constexpr std::array<std::string_view, 4> algorithm_names{"hetero", "pooled", "hetero_gd", "pooled_gd"};
constexpr std::array<std::string_view, 2> sensing_names{"gaussian", "rank_one"};
constexpr std::array<std::string_view, 2> basis_names{"axis", "random"};
constexpr std::array<std::string_view, 2> schedule_names{"cyclic", "random"};
constexpr std::array<std::string_view, 3> sampler_names{"auto", "exact", "materialized"};

// Accessor pairs for one field, so the table below stays one line of facts per parameter.
template <auto Field>
ParamValue get_integer(const Params& p) {
  return std::int64_t{p.*Field};
}
template <auto Field>
void set_integer(Params& p, const ParamValue& v) {
  p.*Field = std::get<std::int64_t>(v);
}
template <auto Field>
ParamValue get_real(const Params& p) {
  return double{p.*Field};
}
template <auto Field>
void set_real(Params& p, const ParamValue& v) {
  p.*Field = std::get<double>(v);
}
template <auto Field, const auto& Names>
ParamValue get_choice(const Params& p) {
  return std::string(Names[static_cast<std::size_t>(p.*Field)]);
}
template <auto Field, const auto& Names>
void set_choice(Params& p, const ParamValue& v) {
  const auto& name = std::get<std::string>(v);
  for (std::size_t i = 0; i < Names.size(); ++i) {
    if (Names[i] == name) {
      p.*Field = static_cast<std::remove_reference_t<decltype(p.*Field)>>(i);
      return;
    }
  }
}

template <auto Field>
constexpr ParamSpec integer(std::string_view name, double min, std::string_view help, double max = inf) {
  return {name, ParamKind::integer, {}, min, false, max, help, &get_integer<Field>, &set_integer<Field>};
}
template <auto Field>
constexpr ParamSpec real(std::string_view name, double min, bool min_exclusive, std::string_view help,
                         double max = inf) {
  return {name, ParamKind::real, {}, min, min_exclusive, max, help, &get_real<Field>, &set_real<Field>};
}
template <auto Field, const auto& Names>
constexpr ParamSpec choice(std::string_view name, std::string_view help) {
  return {name, ParamKind::choice, Names, 0, false, 0, help, &get_choice<Field, Names>, &set_choice<Field, Names>};
}

// Ranges that bound one run: every size below keeps a step's arithmetic in 64 bits and its time finite (a
// step costs O(d^3 + m d^2) at most); memory is checked as a whole by check_memory (footprint.hpp).
constexpr double max_dim = 1024;
constexpr double max_environments = 100'000;
constexpr double max_batch_size = 1'000'000'000;
constexpr double max_steps = 1'000'000'000;

const std::array<ParamSpec, 19> table{
    integer<&Params::dim>("dim", 1, "dimension d of the d x d matrices", max_dim),
    integer<&Params::invariant_rank>("invariant_rank", 1, "rank r of the invariant signal A*", max_dim),
    integer<&Params::spurious_rank>("spurious_rank", 0, "rank rs of the spurious subspace", max_dim),
    integer<&Params::width>("width", 0, "columns k of U; 0 means k = dim", max_dim),
    integer<&Params::environments>("environments", 1, "number of environments K", max_environments),
    real<&Params::heterogeneity>("heterogeneity", 0, false, "heterogeneity M: s_e spread evenly over [mu-M, mu+M]"),
    real<&Params::spurious_mean>("spurious_mean", -inf, false, "mean mu of the spurious eigenvalues s_e"),
    real<&Params::noise>("noise", 0, false, "observation noise standard deviation sigma"),
    choice<&Params::sensing, sensing_names>("sensing", "sensing matrices: gaussian or rank_one (x x^T)"),
    choice<&Params::basis, basis_names>("basis", "axis, or a Haar-random rotation drawn from the run seed"),
    choice<&Params::algorithm, algorithm_names>("algorithm", "hetero, pooled, hetero_gd or pooled_gd"),
    choice<&Params::schedule, schedule_names>("schedule", "hetero environment order: cyclic or random"),
    choice<&Params::sampler, sampler_names>("sampler", "auto, exact (gaussian only) or materialized"),
    real<&Params::step_size>("step_size", 0, true, "step size eta"),
    integer<&Params::batch_size>("batch_size", 1, "batch size m", max_batch_size),
    integer<&Params::steps>("steps", 0, "number of SGD steps T", max_steps),
    real<&Params::init_scale>("init_scale", 0, true, "initial scale alpha: U0 = alpha I"),
    integer<&Params::record_every>("record_every", 1, "record the metrics every this many steps", max_steps),
    real<&Params::divergence_threshold>("divergence_threshold", 0, true, "a run diverges when |U|_F exceeds this"),
};

}  // namespace

Sampler Params::effective_sampler() const {
  if (sampler != Sampler::automatic) return sampler;
  return sensing == Sensing::gaussian ? Sampler::exact : Sampler::materialized;
}

std::span<const ParamSpec> parameters() { return table; }

const ParamSpec* find_parameter(std::string_view name) {
  for (const auto& spec : table) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::optional<std::string> check_value(const ParamSpec& spec, const ParamValue& value) {
  switch (spec.kind) {
    case ParamKind::choice: {
      const auto* name = std::get_if<std::string>(&value);
      if (name == nullptr) return fmt::format("expected one of {}", fmt::join(spec.choices, ", "));
      for (auto c : spec.choices) {
        if (c == *name) return std::nullopt;
      }
      return fmt::format("'{}' is not one of {}", *name, fmt::join(spec.choices, ", "));
    }
    case ParamKind::integer:
    case ParamKind::real: {
      double x = 0;
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        x = static_cast<double>(*i);
      } else if (const auto* d = std::get_if<double>(&value); d != nullptr && spec.kind == ParamKind::real) {
        x = *d;
      } else {
        return std::string(spec.kind == ParamKind::integer ? "expected an integer" : "expected a number");
      }
      if (!std::isfinite(x)) return std::string("must be finite");
      const bool below = spec.min_exclusive ? x <= spec.min : x < spec.min;
      if (below || x > spec.max) {
        const auto low = spec.min == -inf ? std::string("-inf") : fmt::format("{}", spec.min);
        const auto high = spec.max == inf ? std::string("inf") : fmt::format("{}", spec.max);
        return fmt::format("{} is outside the allowed range {}{}, {}]", format_value(value),
                           spec.min_exclusive ? "(" : "[", low, high);
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::vector<ParamProblem> check_consistency(const Params& p) {
  std::vector<ParamProblem> problems;
  if (p.invariant_rank + p.spurious_rank > p.dim) {
    problems.push_back({"spurious_rank", fmt::format("invariant_rank + spurious_rank = {} exceeds dim = {}",
                                                     p.invariant_rank + p.spurious_rank, p.dim)});
  }
  if (p.width > p.dim) {
    problems.push_back({"width", fmt::format("width = {} exceeds dim = {}", p.width, p.dim)});
  }
  if (p.sampler == Sampler::exact && p.sensing != Sensing::gaussian) {
    problems.push_back({"sampler", "the exact sampler applies to gaussian sensing only; use materialized"});
  }
  return problems;
}

std::string format_value(const ParamValue& value) {
  struct Formatter {
    std::string operator()(std::int64_t i) const { return fmt::format("{}", i); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const std::string& s) const { return s; }
  };
  return std::visit(Formatter{}, value);
}

std::string_view to_string(Algorithm a) { return algorithm_names[static_cast<std::size_t>(a)]; }

}  // namespace hetsweep::science
