#pragma once
// The shape of a results file that the writer and the reader share: object names, the /runs row type (of
// format hetsweep-2, or of hetsweep-1 for reading old files), the trajectory columns, names and units, and the
// cube coordinates of a row.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "science/metrics.hpp"
#include "science/params.hpp"
#include "spec/sweep_spec.hpp"
#include "store/h5.hpp"
#include "store/results_file.hpp"

namespace hetsweep::store::layout {

inline constexpr std::size_t metric_count = science::metric_names.size();

// The formats this version reads; it writes the last.
enum class Format { hetsweep_1, hetsweep_2 };
inline constexpr std::string_view format_v1_name = "hetsweep-1";
inline constexpr std::string_view format_v2_name = "hetsweep-2";

inline const std::string row_type_path = "/run_row";
inline const std::string run_path = "/run";
inline const std::string runs_path = "/runs";
inline const std::string steps_path = "/trajectories/step";
inline const std::string trajectory_run_path = "/trajectories/run";
inline const std::string run_name = "run";
inline const std::string step_name = "step";
inline const std::string axes_group = "/axes";
inline const std::string cube_group = "/cube";
inline const std::string replicate_name = "replicate";
std::string trajectory_path(std::string_view metric);  // also /trajectories/<axis>, a per-run coordinate
std::string axis_path(std::string_view axis);
std::string cube_scale_path(std::string_view axis);  // the axis values as a dimension scale inside /cube
std::string cube_path(std::string_view metric);      // /cube/final_<metric>
std::string final_field(std::string_view metric);    // final_<metric>
inline const std::string cube_status_path = "/cube/status";
// /boundary: one row per crossing along the scale /boundary/crossing; a dataset per column (the refine axis's
// other axes, lo, hi, direction, estimate, runs).
inline const std::string boundary_group = "/boundary";
inline const std::string crossing_name = "crossing";
std::string boundary_path(std::string_view column);  // /boundary/<column>
inline constexpr std::array<std::string_view, 2> direction_names{"down", "up"};
inline constexpr std::array<std::int8_t, 2> direction_values{0, 1};
// The other axes of a spec with a refine block, in axis order: the per-crossing coordinates of /boundary.
std::vector<std::string> boundary_axes(const spec::SweepSpec& spec);

// The `long_name` attributes: what a metric measures; a numeric parameter's description up to its first colon
// or semicolon, a choice parameter's name.
std::string_view metric_long_name(std::string_view metric);
std::string parameter_long_name(std::string_view parameter);

// The CF `flag_meanings` attribute of flag values named `names`, in value order: the names, space-separated.
std::string flag_meanings(std::span<const std::string_view> names);

// The names of the status values, in value order (science::RowStatus), and the flag attributes that document them.
inline constexpr std::array<std::string_view, 4> status_names{"pending", "done", "diverged", "failed"};
inline constexpr std::array<std::int8_t, 4> status_values{0, 1, 2, 3};

// The `origin` field of /runs rows (RowOrigin): files written before refinement existed have none, and all
// their rows are grid rows.
inline constexpr std::array<std::string_view, 2> origin_names{"grid", "refine"};
inline constexpr std::array<std::int8_t, 2> origin_values{0, 1};
inline constexpr std::string_view origin_field = "origin";

// The half of a /runs row that changes when a run finishes.
struct RowResult {
  std::int8_t status = 0;  // science::RowStatus
  std::int64_t steps_done = 0;
  double wall_seconds = 0;
  double finished_at = 0;
  std::array<double, metric_count> finals{};  // in metric_names order
};
// The values of a row no run has finished yet.
RowResult pending_result();

// The half of a /runs row that names the run: run, key, one field per parameter, replicate, seed.
struct RowIdentity {
  std::int64_t run = 0;
  std::uint64_t key = 0;
  science::Params params;
  std::int64_t replicate = 0;
  std::uint64_t seed = 0;
  std::int8_t origin = 0;  // RowOrigin; stored after the result fields, as the row's last field
};

// The /runs row type. A row in memory is the identity fields (laid out at run time from the parameter table)
// followed by a RowResult and then the origin; the file holds the same fields packed, in the format's column
// order. A hetsweep-1 file, and a hetsweep-2 file written before refinement existed, have no origin. The memory
// types follow the file's format, as HDF5 converts neither string to char array nor enum to integer:
// hetsweep-2 stores choices as char arrays and the status as int8, hetsweep-1 as fixed-length strings and an
// enum.
class RowLayout {
 public:
  explicit RowLayout(Format format = Format::hetsweep_2, bool with_origin = true);
  // The layout of the rows of `runs`, a /runs dataset of a file of `format`: with the origin when it has one.
  static RowLayout of(Format format, const h5::Dataset& runs);
  [[nodiscard]] bool has_origin() const { return has_origin_; }
  [[nodiscard]] std::size_t identity_size() const { return identity_size_; }
  // Where a whole row in memory holds its origin (an int8).
  [[nodiscard]] std::size_t origin_offset() const { return identity_size_ + sizeof(RowResult); }
  [[nodiscard]] std::size_t row_size() const { return origin_offset() + (has_origin_ ? 8 : 0); }
  // Memory types: the identity fields alone (identity_size bytes), a RowResult alone, and a whole row.
  [[nodiscard]] hid_t identity_type() const { return identity_type_.id(); }
  [[nodiscard]] hid_t result_type() const { return result_type_.id(); }
  [[nodiscard]] hid_t row_type() const { return row_type_.id(); }
  // The origin alone (one int8 member), for rows of a layout that has_origin().
  [[nodiscard]] hid_t origin_type() const { return origin_type_.id(); }
  [[nodiscard]] h5::Datatype file_type() const { return row_type_.packed(); }

  void encode(const RowIdentity& identity, std::byte* out) const;
  [[nodiscard]] RowIdentity decode(const std::byte* in) const;

 private:
  struct ParamField {
    const science::ParamSpec* spec;
    std::size_t offset;
    std::size_t size;  // bytes of a choice's name (NUL-padded); 8 otherwise
  };
  std::vector<ParamField> params_;
  std::size_t identity_size_ = 0;
  bool has_origin_ = true;
  h5::Datatype status_type_;
  std::vector<h5::Datatype> choice_types_;
  h5::Datatype identity_type_;
  h5::Datatype result_type_;
  h5::Datatype row_type_;
  h5::Datatype origin_type_;
};

// The trajectory columns: the sorted union of science::record_steps over the spec's distinct
// (steps, record_every) combinations.
std::vector<std::int64_t> record_step_union(const spec::SweepSpec& spec);

// A value as the parameter's kind stores it (an integral real axis value given as int64 becomes double, ...),
// so that equal values compare equal.
science::ParamValue normalized(science::ParamKind kind, const science::ParamValue& value);

// Where a run sits in the spec's cube: the index of each of its parameter values on each axis.
class CubeIndex {
 public:
  explicit CubeIndex(const spec::SweepSpec& spec);
  // Axis sizes followed by the replicate count.
  [[nodiscard]] const std::vector<std::int64_t>& shape() const { return shape_; }
  [[nodiscard]] std::int64_t cells() const;
  // nullopt when a parameter value is not on its axis or the replicate is out of range.
  [[nodiscard]] std::optional<std::vector<std::int64_t>> coords(const science::Params& params,
                                                                std::int64_t replicate) const;
  // The row-major cell of coords (replicate last, as spec::Grid orders its points).
  [[nodiscard]] std::int64_t cell(std::span<const std::int64_t> coords, std::int64_t replicate) const;

 private:
  struct AxisLookup {
    const science::ParamSpec* param;
    std::map<science::ParamValue, std::int64_t> index;
  };
  std::vector<AxisLookup> axes_;
  std::vector<std::int64_t> shape_;
};

}  // namespace hetsweep::store::layout
