#include "spec/refine_spec.hpp"
#include "spec/suggestions.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "science/metrics.hpp"

namespace hetsweep::spec {
namespace {

constexpr std::array<std::string_view, 5> refine_keys{"axis", "metric", "threshold", "tolerance", "diverged_as"};
constexpr std::array<std::string_view, 4> required_keys{"axis", "metric", "threshold", "tolerance"};
constexpr std::array<std::string_view, 3> diverged_names{"above", "below", "skip"};

// One value of the block with where to report it: its own mark, or its key's when it is empty.
struct Field {
  YAML::Node node;
  YAML::Mark mark;
  std::string key;
};

class BlockReader {
 public:
  explicit BlockReader(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& key, const std::string& reason) const {
    // yaml-cpp counts from 0 and marks nodes without a position with -1.
    const bool known = mark.line >= 0 && mark.column >= 0;
    throw SpecError(file_, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, key, reason);
  }
  [[noreturn]] void fail(const Field& at, const std::string& reason) const { fail(at.mark, at.key, reason); }

  // The block's entries by name; every key a known name, given once, the required ones present. `key_mark` is
  // where the block's key `refine` is.
  std::map<std::string, Field, std::less<>> fields(const Field& block, const YAML::Mark& key_mark) const {
    if (!block.node.IsMap()) {
      fail(block, fmt::format("expected a map with {} and optionally diverged_as, got {}",
                              fmt::join(required_keys, ", "), shape(block.node)));
    }
    std::map<std::string, Field, std::less<>> result;
    for (auto it = block.node.begin(); it != block.node.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) fail(key.Mark(), "refine", fmt::format("a key must be a name, not {}", shape(key)));
      const std::string name = key.Scalar();
      const std::string full = "refine." + name;
      if (std::find(refine_keys.begin(), refine_keys.end(), name) == refine_keys.end()) {
        fail(key.Mark(), full,
             fmt::format("unknown key '{}'{} (refine has {})", name, suggestion(name, refine_keys),
                         fmt::join(refine_keys, ", ")));
      }
      const YAML::Node value = it->second;
      const Field field{value, value.IsNull() ? key.Mark() : value.Mark(), full};
      if (const auto [earlier, inserted] = result.emplace(name, field); !inserted) {
        fail(key.Mark(), full, fmt::format("duplicate key (first at line {})", earlier->second.mark.line + 1));
      }
    }
    for (const auto name : required_keys) {
      if (!result.contains(name)) {
        fail(key_mark, "refine",
             fmt::format("'{}' is missing (refine needs {})", name, fmt::join(required_keys, ", ")));
      }
    }
    return result;
  }

  // A name: any scalar, quoted or not.
  std::string name(const Field& at, std::string_view expected) const {
    if (!at.node.IsScalar()) fail(at, fmt::format("expected {}, got {}", expected, shape(at.node)));
    return at.node.Scalar();
  }

  // A finite number written plainly (YAML's core schema: 0.05, 5e-2, 1).
  double number(const Field& at) const {
    if (!at.node.IsScalar()) fail(at, fmt::format("expected a number, got {}", shape(at.node)));
    const std::string& text = at.node.Scalar();
    if (at.node.Tag() != "?") fail(at, fmt::format("expected a number, got the string \"{}\"", text));
    const std::string_view body =
        text.starts_with('+') || text.starts_with('-') ? std::string_view(text).substr(1) : text;
    constexpr std::array<std::string_view, 3> infinities{".inf", ".Inf", ".INF"};
    constexpr std::array<std::string_view, 3> nans{".nan", ".NaN", ".NAN"};
    if (std::find(infinities.begin(), infinities.end(), body) != infinities.end())
      fail(at, fmt::format("{} is not finite", text));
    if (std::find(nans.begin(), nans.end(), text) != nans.end()) fail(at, fmt::format("{} is not a number", text));
    const bool numeric_characters =
        !body.empty() && body.front() != '+' && body.front() != '-' &&
        std::all_of(body.begin(), body.end(), [](char c) {
          return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
        });
    double value = 0;
    const auto [end, error] = std::from_chars(body.data(), body.data() + body.size(), value);
    if (!numeric_characters || (error != std::errc() && error != std::errc::result_out_of_range) ||
        end != body.data() + body.size()) {
      fail(at, fmt::format("expected a number, got '{}'", text));
    }
    if (error == std::errc::result_out_of_range) fail(at, fmt::format("{} is outside the range of a double", text));
    if (text.starts_with('-')) value = -value;
    return value == 0 ? 0.0 : value;
  }

  static std::string shape(const YAML::Node& node) {
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    return node.IsNull() ? "nothing" : fmt::format("'{}'", node.Scalar());
  }

 private:
  const std::string& file_;
};

bool is_numeric(const Axis& axis) { return !std::holds_alternative<std::string>(axis.values.front()); }

std::string axis_names(const SweepSpec& spec) {
  std::vector<std::string_view> names;
  for (const auto& axis : spec.axes) names.push_back(axis.name);
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

std::string read_axis(const BlockReader& reader, const Field& at, const SweepSpec& spec) {
  const auto name = reader.name(at, "the name of a numeric grid axis");
  const auto axis = std::find_if(spec.axes.begin(), spec.axes.end(), [&](const Axis& a) { return a.name == name; });
  if (axis == spec.axes.end()) {
    std::vector<std::string_view> names;
    for (const auto& a : spec.axes) names.push_back(a.name);
    const bool parameter = science::find_parameter(name) != nullptr;
    reader.fail(at, fmt::format("{} is not a grid axis{} (the grid's axes: {})", name,
                                parameter ? "" : suggestion(name, names), axis_names(spec)));
  }
  if (!is_numeric(*axis)) reader.fail(at, fmt::format("{} is a choice; refine bisects a numeric axis", name));
  if (axis->values.size() < 2) {
    reader.fail(at, fmt::format("{} has one value; bisection needs at least two", name));
  }
  return name;
}

std::string read_metric(const BlockReader& reader, const Field& at) {
  const auto name = reader.name(at, "a metric name");
  if (std::find(science::metric_names.begin(), science::metric_names.end(), name) == science::metric_names.end()) {
    reader.fail(at, fmt::format("unknown metric '{}'{} (one of {})", name, suggestion(name, science::metric_names),
                                fmt::join(science::metric_names, ", ")));
  }
  return name;
}

Refine::Diverged read_diverged(const BlockReader& reader, const Field& at) {
  const auto name = reader.name(at, "above, below or skip");
  for (std::size_t i = 0; i < diverged_names.size(); ++i) {
    if (diverged_names[i] == name) return static_cast<Refine::Diverged>(i);
  }
  reader.fail(at,
              fmt::format("unknown choice '{}'{} (one of above, below, skip)", name, suggestion(name, diverged_names)));
}

std::string display(double x) { return fmt::format("{}", x); }

}  // namespace

Refine parse_refine(const YAML::Node& block, const YAML::Mark& key_mark, const SweepSpec& spec,
                    const std::string& file) {
  const BlockReader reader(file);
  const auto fields = reader.fields(Field{block, block.IsNull() ? key_mark : block.Mark(), "refine"}, key_mark);
  Refine refine;
  refine.axis = read_axis(reader, fields.at("axis"), spec);
  refine.metric = read_metric(reader, fields.at("metric"));
  refine.threshold = reader.number(fields.at("threshold"));
  const auto& tolerance = fields.at("tolerance");
  refine.tolerance = reader.number(tolerance);
  if (refine.tolerance <= 0) {
    reader.fail(tolerance, fmt::format("{} is not a bracket width: expected a number > 0", display(refine.tolerance)));
  }
  if (const auto diverged = fields.find("diverged_as"); diverged != fields.end()) {
    refine.diverged_as = read_diverged(reader, diverged->second);
  }
  return refine;
}

std::string_view to_string(Refine::Diverged diverged) { return diverged_names[static_cast<std::size_t>(diverged)]; }

std::string describe(const Refine& refine) {
  return fmt::format("axis {}, metric {}, threshold {}, tolerance {}, diverged_as {}", refine.axis, refine.metric,
                     display(refine.threshold), display(refine.tolerance), to_string(refine.diverged_as));
}

std::optional<std::string> refine_conflict(const SweepSpec& stored, const SweepSpec& now) {
  const auto text = [](const std::optional<Refine>& r) {
    return r ? fmt::format("{{{}}}", describe(*r)) : std::string("none");
  };
  if (stored.refine != now.refine) {
    return fmt::format("refine differs: the file has {}, the spec has {}", text(stored.refine), text(now.refine));
  }
  if (!stored.refine) return std::nullopt;
  const auto values = [&](const SweepSpec& spec) {
    const auto& axis =
        *std::find_if(spec.axes.begin(), spec.axes.end(), [&](const Axis& a) { return a.name == stored.refine->axis; });
    return std::set<science::ParamValue>(axis.values.begin(), axis.values.end());
  };
  if (values(stored) != values(now)) {
    return fmt::format("the refined axis {} must keep its values: refinement points depend on them",
                       stored.refine->axis);
  }
  if (stored.replicates != now.replicates) {
    return fmt::format("replicates must stay {} with refine: refinement points depend on the replicate means",
                       stored.replicates);
  }
  return std::nullopt;
}

}  // namespace hetsweep::spec
