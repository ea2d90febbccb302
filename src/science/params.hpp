#pragma once
// The parameters of one simulation run, and the table that names them.
//
// The table is the single source of truth for parameter names, kinds, defaults and ranges: the command
// line (`simulate --step-size`), the sweep spec (`step_size:`) and the results file's columns all read it.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hetsweep::science {

enum class Algorithm : std::uint8_t { hetero, pooled, hetero_gd, pooled_gd };
enum class Sensing : std::uint8_t { gaussian, rank_one };
enum class Basis : std::uint8_t { axis, random };
enum class Schedule : std::uint8_t { cyclic, random };
// `automatic` means exact for gaussian sensing and materialized otherwise.
enum class Sampler : std::uint8_t { automatic, exact, materialized };

struct Params {
  // The model.
  std::int64_t dim = 20;
  std::int64_t invariant_rank = 2;
  std::int64_t spurious_rank = 2;
  std::int64_t width = 0;  // columns of U; 0 means width = dim (over-parameterized)
  std::int64_t environments = 2;
  double heterogeneity = 0.0;
  double spurious_mean = 1.0;
  double noise = 0.0;
  Sensing sensing = Sensing::gaussian;
  Basis basis = Basis::axis;
  // The training.
  Algorithm algorithm = Algorithm::hetero;
  Schedule schedule = Schedule::cyclic;
  Sampler sampler = Sampler::automatic;
  double step_size = 0.05;
  std::int64_t batch_size = 1000;
  std::int64_t steps = 1000;
  double init_scale = 1e-3;
  std::int64_t record_every = 10;
  double divergence_threshold = 1e6;

  [[nodiscard]] std::int64_t effective_width() const { return width == 0 ? dim : width; }
  [[nodiscard]] Sampler effective_sampler() const;
  friend bool operator==(const Params&, const Params&) = default;
};

enum class ParamKind : std::uint8_t { integer, real, choice };

// A parameter value as text-free data: integers, reals, or one of a choice parameter's names.
using ParamValue = std::variant<std::int64_t, double, std::string>;

struct ParamSpec {
  std::string_view name;
  ParamKind kind;
  std::span<const std::string_view> choices;  // choice parameters only, in enum order
  double min;                                 // numeric parameters: allowed range
  bool min_exclusive;
  double max;
  std::string_view help;
  ParamValue (*get)(const Params&);
  void (*set)(Params&, const ParamValue&);
};

// Every parameter, in a fixed order (the order of the results file's columns).
std::span<const ParamSpec> parameters();
const ParamSpec* find_parameter(std::string_view name);

// Why `value` is not allowed for `spec` (wrong kind, out of range, unknown choice, not finite), if it is not.
std::optional<std::string> check_value(const ParamSpec& spec, const ParamValue& value);

struct ParamProblem {
  std::string key;  // the parameter the problem is best reported against
  std::string message;
};
// Constraints between parameters (invariant_rank + spurious_rank <= dim, width <= dim, sampler fits sensing),
// for values that check_value accepts (their ranges keep the sums here far from overflow). The memory a run
// takes is checked by check_memory (footprint.hpp).
std::vector<ParamProblem> check_consistency(const Params& params);

// Canonical text of a value: integers in decimal, reals in the shortest form that reads back to the same
// double (so one text per value), choices by name.
std::string format_value(const ParamValue& value);

std::string_view to_string(Algorithm a);

}  // namespace hetsweep::science
