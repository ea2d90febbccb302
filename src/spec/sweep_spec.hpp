#pragma once
// A sweep spec: the YAML file a user writes, parsed and validated.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "science/params.hpp"

namespace hetsweep::spec {

// Grids beyond this many runs are refused before anything runs: the master keeps one small entry per run,
// and the results file one /runs row plus its trajectories (see README "Guarantees").
inline constexpr std::int64_t max_runs = 1'000'000;
// Runs x records of trajectory storage per metric, so that a file stays within a few GiB.
inline constexpr std::int64_t max_trajectory_cells = 100'000'000;
// A spec file is read up to this size (1 MiB); larger ones are refused unread.
inline constexpr std::int64_t max_spec_bytes = 1 << 20;

struct Axis {
  std::string name;
  std::vector<science::ParamValue> values;  // distinct, in file order
  friend bool operator==(const Axis&, const Axis&) = default;
};

// The `refine:` block: bisect `axis` towards the crossings of `threshold` by the replicate mean of the final
// `metric`, until each bracket is at most `tolerance` wide.
struct Refine {
  enum class Diverged { above, below, skip };
  std::string axis;
  std::string metric;  // a name from science::metric_names
  double threshold = 0;
  double tolerance = 0;
  Diverged diverged_as = Diverged::above;
  friend bool operator==(const Refine&, const Refine&) = default;
};

struct SweepSpec {
  std::string name;
  std::uint64_t seed = 0;
  science::Params base;                 // defaults with `fixed` applied
  std::vector<std::string> fixed_keys;  // the parameters `fixed` sets, in file order
  std::vector<Axis> axes;               // in file order
  std::int64_t replicates = 1;
  std::string text;  // the YAML source, verbatim
  std::optional<Refine> refine;
};

// A spec that cannot be used: where (file, line, column, key) and why. Lines and columns count from 1;
// 0 when the problem belongs to the whole file. Keys are paths into the spec: `seed`, `fixed.dim`, `grid`,
// `grid.step_size[2]` (an axis value), `grid.noise.num`; empty for YAML syntax errors. what() reads
// `FILE:LINE:COL: KEY: REASON`, without `:LINE:COL` for the whole file and without `KEY: ` when it is empty.
class SpecError : public std::runtime_error {
 public:
  SpecError(std::string file, int line, int column, std::string key, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key() const { return key_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string key_;
  std::string reason_;
};

// Parses and validates a spec; `file` names it in errors. Throws SpecError.
SweepSpec parse_spec(std::string_view text, const std::string& file);
// Reads and parses a file: a regular file of at most max_spec_bytes. Throws SpecError (an unreadable, larger or
// non-regular file included: /dev/zero and FIFOs are refused without waiting on them).
SweepSpec load_spec(const std::filesystem::path& path);

// A parameter's value or a seed given as text elsewhere (a command-line flag), read and checked exactly as
// the same plain scalar in a spec: the same syntax (1e3 is an integer, 0x10 too), the same range and the same
// message. Throws SpecError naming `source` and no line, whose reason() says why.
science::ParamValue parse_parameter_text(const science::ParamSpec& param, const std::string& text,
                                         const std::string& source);
std::uint64_t parse_seed_text(const std::string& text, const std::string& source);

}  // namespace hetsweep::spec
