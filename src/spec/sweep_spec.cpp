#include "spec/sweep_spec.hpp"

#include "science/footprint.hpp"
#include "science/records.hpp"
#include "spec/refine_spec.hpp"
#include "spec/suggestions.hpp"
#include "spec/yaml_scalars.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace hetsweep::spec {
namespace {

// Integer ranges and size products are computed in 128 bits so that no spec can make them wrap around.
__extension__ typedef __int128 Wide;

constexpr std::array<std::string_view, 6> top_level_keys{"name", "seed", "fixed", "grid", "replicates", "refine"};
constexpr std::array<std::string_view, 3> range_keys{"start", "stop", "num"};
// The parameters science::check_consistency reads: the consistency check visits only their combinations.
constexpr std::array<std::string_view, 6> consistency_inputs{"dim",   "invariant_rank", "spurious_rank",
                                                             "width", "sampler",        "sensing"};
// The parameters science::estimate_run_memory reads.
constexpr std::array<std::string_view, 12> memory_inputs{
    "dim",       "width", "environments", "batch_size",     "sensing",       "sampler",
    "algorithm", "steps", "record_every", "invariant_rank", "spurious_rank", "basis"};
// The parameters the number of records of a run depends on.
constexpr const auto& record_inputs = science::record_step_inputs;

std::string describe_location(const std::string& file, int line, int column, const std::string& key,
                              const std::string& reason) {
  const auto where = line > 0 ? fmt::format("{}:{}:{}", file, line, column) : file;
  return key.empty() ? fmt::format("{}: {}", where, reason) : fmt::format("{}: {}: {}", where, key, reason);
}

std::vector<std::string_view> parameter_names() {
  std::vector<std::string_view> names;
  for (const auto& p : science::parameters()) names.push_back(p.name);
  return names;
}

// A node with where to report it: its own mark, or its key's for an empty value, whose mark yaml-cpp puts at
// the next token.
struct Located {
  YAML::Node node;
  YAML::Mark mark;
  std::string key;
};

struct Entry {
  std::string name;
  YAML::Node key;
  Located value;
};

struct Range {
  Located start;
  Located stop;
  std::int64_t num = 0;
  science::ParamValue first;  // start and stop as the parameter's kind
  science::ParamValue last;
};

// A grid axis as written, before its values are checked.
struct AxisSource {
  const science::ParamSpec* param = nullptr;
  Located values;
  std::optional<Range> range;
  std::int64_t size = 0;
};

Wide saturate(Wide x) { return std::min<Wide>(x, std::numeric_limits<std::int64_t>::max()); }

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  // One value written as text outside a spec (a command-line flag), read as the same plain scalar in a spec
  // would be; `key` names it in errors.
  science::ParamValue text_value(const science::ParamSpec& param, const std::string& text,
                                 const std::string& key) const {
    return param_value(param, plain_scalar(text, key));
  }
  std::uint64_t text_seed(const std::string& text, const std::string& key) const {
    return seed(plain_scalar(text, key));
  }

  SweepSpec parse() {
    SweepSpec spec;
    spec.text = std::string(text_);
    spec.name = std::filesystem::path(file_).stem().string();
    const auto root = load();
    std::optional<Entry> fixed;
    std::optional<Entry> grid;
    std::optional<Entry> refine;
    for (auto& entry : entries(Located{root, root.Mark(), ""}, "")) {
      if (entry.name == "name") {
        spec.name = name(entry.value);
      } else if (entry.name == "seed") {
        spec.seed = seed(entry.value);
      } else if (entry.name == "replicates") {
        spec.replicates = replicates(entry.value);
        replicates_mark_ = entry.key.Mark();
      } else if (entry.name == "fixed") {
        fixed = entry;
      } else if (entry.name == "grid") {
        grid = entry;
        grid_mark_ = entry.key.Mark();
      } else if (entry.name == "refine") {
        refine = entry;
      } else {
        fail(entry.key.Mark(), entry.name,
             fmt::format("unknown key '{}'{} (a spec has {})", entry.name, suggestion(entry.name, top_level_keys),
                         fmt::join(top_level_keys, ", ")));
      }
    }
    if (fixed) read_fixed(fixed->value, spec);
    std::vector<AxisSource> sources;
    if (grid) sources = read_grid(grid->value);
    check_run_count(sources, spec.replicates);
    for (const auto& source : sources) spec.axes.push_back(axis(source));
    check_consistency(spec);
    check_memory(spec);
    check_trajectory_cells(spec);
    if (refine) spec.refine = parse_refine(refine->value.node, refine->key.Mark(), spec, file_);
    return spec;
  }

 private:
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& key, const std::string& reason) const {
    // yaml-cpp counts from 0 and marks nodes without a position with -1.
    const bool known = mark.line >= 0 && mark.column >= 0;
    throw SpecError(file_, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, key, reason);
  }
  [[noreturn]] void fail(const Located& at, const std::string& reason) const { fail(at.mark, at.key, reason); }

  YAML::Node load() const {
    YAML::Node root;
    try {
      check_single_document();
      root = YAML::Load(std::string(text_));
    } catch (const YAML::Exception& e) {
      fail(e.mark, "", e.msg);
    }
    if (root.IsNull()) {
      throw SpecError(file_, 0, 0, "", "the spec is empty: expected a map with name, seed, fixed, grid, replicates");
    }
    if (!root.IsMap()) {
      fail(root.Mark(), "",
           fmt::format("expected a map with name, seed, fixed, grid, replicates; got {}", shape(root)));
    }
    return root;
  }

  // Refuses anything after the first document. yaml-cpp 0.7 reads a stray ',' as an endless run of empty
  // documents (its issue #1040), so LoadAll never returns on it: documents are counted here, two at most.
  void check_single_document() const {
    struct DocumentStarts : YAML::EventHandler {
      std::vector<YAML::Mark> marks;
      void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
      void OnDocumentEnd() override {}
      void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
      void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
      void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
      void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
      void OnSequenceEnd() override {}
      void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
      void OnMapEnd() override {}
    } starts;
    std::istringstream stream{std::string(text_)};
    YAML::Parser parser(stream);
    if (!parser.HandleNextDocument(starts) || !parser.HandleNextDocument(starts)) return;
    const auto& second = starts.marks.back();
    const auto rest = text_.substr(std::min<std::size_t>(static_cast<std::size_t>(second.pos), text_.size()));
    if (rest.starts_with("---")) fail(second, "", "a spec is one YAML document, but a second one starts here");
    fail(second, "", fmt::format("unexpected '{}' after the spec", rest.substr(0, 1)));
  }

  // The entries of a map in file order; every key a distinct scalar. `path` prefixes the keys in errors.
  std::vector<Entry> entries(const Located& map, const std::string& path) const {
    std::vector<Entry> result;
    std::map<std::string, YAML::Mark, std::less<>> seen;
    for (auto it = map.node.begin(); it != map.node.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) fail(key.Mark(), path, fmt::format("a key must be a name, not {}", shape(key)));
      const std::string name = key.Scalar();
      const std::string full = path.empty() ? name : fmt::format("{}.{}", path, name);
      if (const auto [earlier, inserted] = seen.emplace(name, key.Mark()); !inserted) {
        fail(key.Mark(), full, fmt::format("duplicate key (first at line {})", earlier->second.line + 1));
      }
      const YAML::Node value = it->second;
      result.push_back({name, key, Located{value, value.IsNull() ? key.Mark() : value.Mark(), full}});
    }
    return result;
  }

  static std::string shape(const YAML::Node& node) {
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    return node.IsNull() ? "null" : fmt::format("'{}'", excerpt(node.Scalar()));
  }

  // The scalar at `at`, which must not be a map or a list; `expected` says what belongs there.
  Scalar scalar(const Located& at, std::string_view expected) const {
    if (at.node.IsMap() || at.node.IsSequence()) fail(at, fmt::format("expected {}, got {}", expected, shape(at.node)));
    if (at.node.IsNull()) return {Scalar::Type::null, "null"};
    const auto& tag = at.node.Tag();
    if (tag == "?") return resolve_plain(at.node.Scalar());
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return {Scalar::Type::string, at.node.Scalar()};
    constexpr std::string_view core = "tag:yaml.org,2002:";
    const auto shown = tag.starts_with(core) ? "!!" + tag.substr(core.size()) : tag;
    fail(at, fmt::format("unsupported tag '{}': write the value plainly", shown));
  }

  // A number's value as a double; NaN and infinities are refused.
  double finite_number(const Located& at, const Scalar& s, std::string_view expected) const {
    if (s.type != Scalar::Type::integer && s.type != Scalar::Type::real) {
      fail(at, fmt::format("expected {}, got {}", expected, describe(s)));
    }
    if (!s.representable) fail(at, fmt::format("{} is outside the range of a double", s.text));
    if (std::isnan(s.number)) fail(at, fmt::format("{} is not a number", s.text));
    if (std::isinf(s.number)) fail(at, fmt::format("{} is not finite", s.text));
    return s.number == 0 ? 0.0 : s.number;  // no negative zero: 0 and -0 are one run
  }

  // An integer, written as one or as an integral number such as 1e3.
  std::int64_t integer(const Located& at, std::string_view expected) const {
    const auto s = scalar(at, expected);
    if (s.type == Scalar::Type::integer && s.magnitude) {
      constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      if (!s.negative && *s.magnitude <= max) return static_cast<std::int64_t>(*s.magnitude);
      if (s.negative && *s.magnitude <= max + 1) return static_cast<std::int64_t>(-static_cast<Wide>(*s.magnitude));
    } else {
      const double x = finite_number(at, s, expected);
      if (std::trunc(x) != x) fail(at, fmt::format("{} is not an integer", s.text));
      // Every double in [-2^63, 2^63) converts exactly.
      if (x >= -0x1p63 && x < 0x1p63) return static_cast<std::int64_t>(x);
    }
    fail(at, fmt::format("{} does not fit in a 64-bit integer", s.text));
  }

  std::string name(const Located& at) const {
    const auto s = scalar(at, "a name");
    if (s.type == Scalar::Type::null || s.text.empty()) fail(at, "expected a name, got nothing");
    // Names become Slurm job names and file names; the rule also catches text a lenient YAML reader
    // swallowed into a name (yaml-cpp 0.7 accepts a double quote left open at the end of the file).
    constexpr std::size_t max_name = 64;
    const bool plain = std::all_of(s.text.begin(), s.text.end(), [](unsigned char c) {
      return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
    });
    if (!plain || s.text.size() > max_name) {
      fail(at, fmt::format("a name is 1 to {} letters, digits, '.', '_' or '-'", max_name));
    }
    return s.text;
  }

  std::uint64_t seed(const Located& at) const {
    constexpr std::string_view expected = "an integer from 0 to 18446744073709551615";
    const auto s = scalar(at, expected);
    if (s.type == Scalar::Type::integer && s.magnitude) {
      if (s.negative && *s.magnitude != 0) fail(at, fmt::format("{} is negative; expected {}", s.text, expected));
      return *s.magnitude;
    }
    const double x = finite_number(at, s, expected);
    if (std::trunc(x) != x) fail(at, fmt::format("{} is not an integer", s.text));
    if (x < 0) fail(at, fmt::format("{} is negative; expected {}", s.text, expected));
    if (x >= 0x1p64) fail(at, fmt::format("{} does not fit in 64 bits; expected {}", s.text, expected));
    return static_cast<std::uint64_t>(x);
  }

  std::int64_t replicates(const Located& at) const {
    const auto n = integer(at, "an integer >= 1");
    if (n < 1) fail(at, fmt::format("{} replicates: expected an integer >= 1", n));
    return n;
  }

  const science::ParamSpec& parameter(const Entry& entry) const {
    const auto* param = science::find_parameter(entry.name);
    if (param == nullptr) {
      fail(entry.key.Mark(), entry.value.key,
           fmt::format("unknown parameter '{}'{}", entry.name, suggestion(entry.name, parameter_names())));
    }
    return *param;
  }

  // A value of `param`'s kind, in its range. Integers are accepted for reals and integral numbers for
  // integers; choice parameters take one of their names.
  science::ParamValue param_value(const science::ParamSpec& param, const Located& at) const {
    science::ParamValue value;
    switch (param.kind) {
      case science::ParamKind::integer:
        value = integer(at, "an integer");
        break;
      case science::ParamKind::real:
        value = finite_number(at, scalar(at, "a number"), "a number");
        break;
      case science::ParamKind::choice: {
        const auto expected = fmt::format("one of {}", fmt::join(param.choices, ", "));
        const auto s = scalar(at, expected);
        if (s.type != Scalar::Type::string) fail(at, fmt::format("expected {}, got {}", expected, describe(s)));
        value = s.text;
        break;
      }
    }
    if (auto problem = science::check_value(param, value)) {
      if (const auto* choice = std::get_if<std::string>(&value)) *problem += suggestion(*choice, param.choices);
      fail(at, *problem);
    }
    return value;
  }

  // A plain (untagged, unquoted) scalar node holding `text` verbatim: no YAML syntax is read from it.
  static Located plain_scalar(const std::string& text, const std::string& key) {
    YAML::Node node(text);
    node.SetTag("?");
    return Located{node, YAML::Mark::null_mark(), key};
  }

  static bool is_map_or_empty(const YAML::Node& node) { return node.IsMap() || node.IsNull(); }

  void read_fixed(const Located& at, SweepSpec& spec) {
    if (!is_map_or_empty(at.node)) fail(at, fmt::format("expected a map of parameter: value, got {}", shape(at.node)));
    if (at.node.IsNull()) return;
    for (const auto& entry : entries(at, "fixed")) {
      const auto& param = parameter(entry);
      param.set(spec.base, param_value(param, entry.value));
      spec.fixed_keys.push_back(entry.name);
      fixed_marks_.emplace(entry.name, entry.key.Mark());
    }
  }

  std::vector<AxisSource> read_grid(const Located& at) {
    if (!is_map_or_empty(at.node)) {
      fail(at, fmt::format("expected a map of parameter: [values] or {{start, stop, num}}, got {}", shape(at.node)));
    }
    std::vector<AxisSource> sources;
    if (at.node.IsNull()) return sources;
    for (const auto& entry : entries(at, "grid")) {
      const auto& param = parameter(entry);
      if (const auto fixed = fixed_marks_.find(entry.name); fixed != fixed_marks_.end()) {
        fail(entry.key.Mark(), entry.value.key,
             fmt::format("{} is both fixed (line {}) and swept; keep one", entry.name, fixed->second.line + 1));
      }
      axis_marks_.emplace(entry.name, entry.key.Mark());
      AxisSource source{&param, entry.value, std::nullopt, 0};
      if (entry.value.node.IsSequence()) {
        source.size = static_cast<std::int64_t>(entry.value.node.size());
        if (source.size == 0) fail(entry.value, "empty axis: list at least one value");
      } else if (entry.value.node.IsMap()) {
        source.range = range(param, entry.value);
        source.size = source.range->num;
      } else {
        fail(entry.value, fmt::format("expected a list of values or a {{start, stop, num}} range, got {}; a single "
                                      "value belongs under fixed",
                                      shape(entry.value.node)));
      }
      sources.push_back(std::move(source));
    }
    return sources;
  }

  Range range(const science::ParamSpec& param, const Located& at) const {
    if (param.kind == science::ParamKind::choice) {
      fail(at, fmt::format("a range needs a numeric parameter; list the choices instead ({})",
                           fmt::join(param.choices, ", ")));
    }
    std::optional<Located> start;
    std::optional<Located> stop;
    std::optional<Located> num;
    for (const auto& entry : entries(at, at.key)) {
      if (entry.name == "start") {
        start = entry.value;
      } else if (entry.name == "stop") {
        stop = entry.value;
      } else if (entry.name == "num") {
        num = entry.value;
      } else {
        fail(entry.key.Mark(), entry.value.key,
             fmt::format("unknown key '{}'{} (a range has start, stop, num)", entry.name,
                         suggestion(entry.name, range_keys)));
      }
    }
    for (const auto& [field, name] : {std::pair{&start, "start"}, std::pair{&stop, "stop"}, std::pair{&num, "num"}}) {
      if (!*field) fail(at, fmt::format("a range needs start, stop and num; '{}' is missing", name));
    }
    Range r{*start, *stop, integer(*num, "an integer >= 1"), {}, {}};
    if (r.num < 1) fail(*num, fmt::format("num is {}: a range needs at least one value", r.num));
    if (param.kind == science::ParamKind::integer) {
      const auto first = integer(r.start, "an integer");
      const auto last = integer(r.stop, "an integer");
      if (r.num > 1 && (static_cast<Wide>(last) - first) % (r.num - 1) != 0) {
        fail(at, fmt::format("from {} to {} in {} values steps by {}, but {} takes integers", first, last, r.num,
                             (static_cast<double>(last) - static_cast<double>(first)) / static_cast<double>(r.num - 1),
                             param.name));
      }
      r.first = first;
      r.last = last;
    } else {
      r.first = finite_number(r.start, scalar(r.start, "a number"), "a number");
      r.last = finite_number(r.stop, scalar(r.stop, "a number"), "a number");
    }
    return r;
  }

  // The product of the axis sizes and the replicates, saturated at the int64 maximum.
  static std::int64_t run_count(const std::vector<std::int64_t>& sizes, std::int64_t replicates) {
    Wide product = replicates;
    for (auto n : sizes) product = saturate(product * n);
    return static_cast<std::int64_t>(product);
  }

  void check_run_count(const std::vector<AxisSource>& sources, std::int64_t replicates) const {
    std::vector<std::int64_t> sizes;
    for (const auto& s : sources) sizes.push_back(s.size);
    const auto runs = run_count(sizes, replicates);
    if (runs <= max_runs) return;
    std::vector<std::string> factors;
    for (const auto& s : sources) factors.push_back(fmt::format("{} {}", s.size, s.param->name));
    factors.push_back(fmt::format("{} replicates", replicates));
    const auto [mark, key] = size_location();
    fail(mark, key,
         fmt::format("{} = {} runs exceeds the limit of {}", fmt::join(factors, " x "), count(runs), max_runs));
  }

  // Where a problem with the size of the sweep is reported: `grid`, else `replicates`, else what sets the
  // number of records, else the top of the file.
  std::pair<YAML::Mark, std::string> size_location() const {
    if (grid_mark_) return {*grid_mark_, "grid"};
    if (replicates_mark_) return {*replicates_mark_, "replicates"};
    for (auto name : record_inputs) {
      if (const auto fixed = fixed_marks_.find(name); fixed != fixed_marks_.end()) {
        return {fixed->second, fmt::format("fixed.{}", name)};
      }
    }
    return {YAML::Mark(), ""};
  }

  // The values of an axis, each of the parameter's kind and range and distinct from the others.
  Axis axis(const AxisSource& source) const {
    const auto& param = *source.param;
    Axis axis{std::string(param.name), {}};
    std::map<science::ParamValue, YAML::Mark> seen;
    const auto add = [&](science::ParamValue value, const Located& at) {
      if (const auto [earlier, inserted] = seen.emplace(value, at.mark); !inserted) {
        if (source.range) fail(source.values, fmt::format("the range yields {} more than once", display(value)));
        fail(at, fmt::format("{} appears twice (also at line {}, column {})", display(value), earlier->second.line + 1,
                             earlier->second.column + 1));
      }
      axis.values.push_back(std::move(value));
    };
    if (source.range) {
      const auto& r = *source.range;
      for (std::int64_t i = 0; i < r.num; ++i) {
        const bool last = i == r.num - 1 && r.num > 1;
        const Located& at = i == 0 ? r.start : last ? r.stop : source.values;
        auto value = range_value(r, i);
        if (auto problem = science::check_value(param, value)) fail(at, *problem);
        add(std::move(value), at);
      }
    } else {
      for (std::size_t i = 0; i < source.values.node.size(); ++i) {
        const YAML::Node element = source.values.node[i];
        const Located at{element, element.Mark(), fmt::format("{}[{}]", source.values.key, i)};
        add(param_value(param, at), at);
      }
    }
    return axis;
  }

  // Value i of an inclusive linspace; the endpoints are exactly start and stop.
  static science::ParamValue range_value(const Range& r, std::int64_t i) {
    if (i == 0) return r.first;
    if (i == r.num - 1) return r.last;
    if (const auto* first = std::get_if<std::int64_t>(&r.first)) {
      const Wide step = (static_cast<Wide>(std::get<std::int64_t>(r.last)) - *first) / (r.num - 1);
      return static_cast<std::int64_t>(*first + step * i);
    }
    // Weighting both ends gives the correctly rounded value whenever the weighted sum is exact (0.3, not
    // 0.30000000000000004, as the third of eleven values from 0 to 1).
    const double a = std::get<double>(r.first);
    const double b = std::get<double>(r.last);
    const auto n = static_cast<double>(r.num - 1);
    const auto k = static_cast<double>(i);
    const double weighted = ((n - k) * a + k * b) / n;
    const double value = std::isfinite(weighted) ? weighted : a * (1 - k / n) + b * (k / n);  // ends near DBL_MAX
    return value == 0 ? 0.0 : value;
  }

  // Calls visit(params, label) for every combination of the values of the swept parameters among `names`,
  // the others as in spec.base; label() lists the swept values, e.g. "dim = 4, width = 8".
  template <class Names, class Visit>
  static void for_each_combination(const SweepSpec& spec, const Names& names, Visit visit) {
    std::vector<const Axis*> axes;
    std::vector<const science::ParamSpec*> params_of_axes;
    for (const auto& axis : spec.axes) {
      if (std::find(names.begin(), names.end(), axis.name) != names.end()) {
        axes.push_back(&axis);
        params_of_axes.push_back(science::find_parameter(axis.name));
      }
    }
    std::vector<std::size_t> index(axes.size(), 0);
    science::Params params = spec.base;
    while (true) {
      for (std::size_t a = 0; a < axes.size(); ++a) params_of_axes[a]->set(params, axes[a]->values[index[a]]);
      const auto label = [&] {
        std::vector<std::string> parts;
        for (std::size_t a = 0; a < axes.size(); ++a) {
          parts.push_back(fmt::format("{} = {}", axes[a]->name, display(axes[a]->values[index[a]])));
        }
        return fmt::format("{}", fmt::join(parts, ", "));
      };
      visit(params, label);
      std::size_t a = axes.size();
      while (a > 0 && ++index[a - 1] == axes[a - 1]->values.size()) index[--a] = 0;
      if (a == 0) return;
    }
  }

  void check_consistency(const SweepSpec& spec) const {
    for_each_combination(spec, consistency_inputs, [&](const science::Params& params, const auto& label) {
      const auto problems = science::check_consistency(params);
      if (!problems.empty()) fail(problems.front(), label());
    });
  }

  // One run's memory, for every combination of the parameters it depends on, within the machine's share.
  void check_memory(const SweepSpec& spec) const {
    const double limit = science::run_memory_limit();
    for_each_combination(spec, memory_inputs, [&](const science::Params& params, const auto& label) {
      if (const auto problem = science::check_memory(params, limit)) fail(*problem, label());
    });
  }

  // A problem of a combination of parameters, reported where its key is swept or fixed (or at the top of the
  // file for a default value), with the swept values that produce it.
  [[noreturn]] void fail(const science::ParamProblem& problem, const std::string& swept_values) const {
    const auto reason =
        swept_values.empty() ? problem.message : fmt::format("{} (at {})", problem.message, swept_values);
    if (const auto swept = axis_marks_.find(problem.key); swept != axis_marks_.end()) {
      fail(swept->second, "grid." + problem.key, reason);
    }
    if (const auto fixed = fixed_marks_.find(problem.key); fixed != fixed_marks_.end()) {
      fail(fixed->second, "fixed." + problem.key, reason);
    }
    fail(YAML::Mark(), problem.key, reason);  // a default value: the top of the file
  }

  // Runs x records, summed over the combinations of steps and record_every, within max_trajectory_cells.
  void check_trajectory_cells(const SweepSpec& spec) const {
    std::vector<std::int64_t> sizes;
    Wide combinations = 1;
    for (const auto& axis : spec.axes) {
      const auto n = static_cast<std::int64_t>(axis.values.size());
      sizes.push_back(n);
      if (std::find(record_inputs.begin(), record_inputs.end(), axis.name) != record_inputs.end()) combinations *= n;
    }
    const Wide runs_per_combination = run_count(sizes, spec.replicates) / combinations;
    Wide cells = 0;
    for_each_combination(spec, record_inputs, [&](const science::Params& params, const auto&) {
      cells = saturate(cells + saturate(runs_per_combination * Wide{science::record_count(params)}));
    });
    if (cells <= max_trajectory_cells) return;
    const auto [mark, key] = size_location();
    fail(mark, key,
         fmt::format("the runs record {} trajectory points per metric, more than the limit of {}; record less often "
                     "(record_every) or sweep less",
                     count(static_cast<std::int64_t>(cells)), max_trajectory_cells));
  }

  // A saturated count as text.
  static std::string count(std::int64_t n) {
    return n == std::numeric_limits<std::int64_t>::max() ? fmt::format("{} or more", n) : fmt::format("{}", n);
  }

  std::string_view text_;
  const std::string& file_;
  std::optional<YAML::Mark> grid_mark_;
  std::optional<YAML::Mark> replicates_mark_;
  std::map<std::string, YAML::Mark, std::less<>> fixed_marks_;
  std::map<std::string, YAML::Mark, std::less<>> axis_marks_;
};

}  // namespace

SpecError::SpecError(std::string file, int line, int column, std::string key, std::string message)
    : std::runtime_error(describe_location(file, line, column, key, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_(std::move(key)),
      reason_(std::move(message)) {}

SweepSpec parse_spec(std::string_view text, const std::string& file) { return Parser(text, file).parse(); }

science::ParamValue parse_parameter_text(const science::ParamSpec& param, const std::string& text,
                                         const std::string& source) {
  return Parser("", source).text_value(param, text, "");
}

std::uint64_t parse_seed_text(const std::string& text, const std::string& source) {
  return Parser("", source).text_seed(text, "");
}

SweepSpec load_spec(const std::filesystem::path& path) {
  const auto file = path.string();
  // Non-blocking, so that opening a FIFO nobody writes to returns at once (it is refused just below).
  struct Descriptor {
    int fd;
    ~Descriptor() {
      if (fd >= 0) ::close(fd);
    }
  } const opened{::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  const int descriptor = opened.fd;
  if (descriptor < 0) throw SpecError(file, 0, 0, "", fmt::format("cannot open the spec: {}", std::strerror(errno)));
  struct stat status {};
  if (::fstat(descriptor, &status) != 0) {
    throw SpecError(file, 0, 0, "", fmt::format("cannot read the spec: {}", std::strerror(errno)));
  }
  // A device, FIFO or socket may never end (/dev/zero, /dev/urandom): only regular files are specs.
  if (S_ISDIR(status.st_mode)) {
    throw SpecError(file, 0, 0, "", fmt::format("cannot read the spec: {}", std::strerror(EISDIR)));
  }
  if (!S_ISREG(status.st_mode)) {
    const auto kind = S_ISFIFO(status.st_mode)   ? "a FIFO"
                      : S_ISCHR(status.st_mode)  ? "a character device"
                      : S_ISBLK(status.st_mode)  ? "a block device"
                      : S_ISSOCK(status.st_mode) ? "a socket"
                                                 : "not a regular file";
    throw SpecError(file, 0, 0, "", fmt::format("the spec must be a regular file, but this is {}", kind));
  }
  const auto too_large = [&](std::string_view size) {
    return SpecError(file, 0, 0, "",
                     fmt::format("the spec is {}, more than the limit of {} bytes (1 MiB)", size, max_spec_bytes));
  };
  if (status.st_size > max_spec_bytes) throw too_large(fmt::format("{} bytes", status.st_size));
  // Read at most one byte past the limit, in case the file grew since fstat.
  std::string text(static_cast<std::size_t>(max_spec_bytes) + 1, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    const auto n = ::read(descriptor, text.data() + used, text.size() - used);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SpecError(file, 0, 0, "", fmt::format("cannot read the spec: {}", std::strerror(errno)));
    }
    used += static_cast<std::size_t>(n);
  }
  if (used > static_cast<std::size_t>(max_spec_bytes)) throw too_large("larger than that");
  text.resize(used);
  return parse_spec(text, file);
}

}  // namespace hetsweep::spec
