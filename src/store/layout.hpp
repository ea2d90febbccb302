#pragma once
// The shape of a `hetsweep-1` file that the writer and the reader share: object names, the /runs row type,
// the trajectory columns and the cube coordinates of a row.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "science/params.hpp"
#include "science/simulate.hpp"
#include "spec/sweep_spec.hpp"
#include "store/h5.hpp"

namespace hetsweep::store::layout {

inline constexpr std::size_t metric_count = science::metric_names.size();

inline const std::string runs_path = "/runs";
inline const std::string steps_path = "/trajectories/step";
inline const std::string axes_group = "/axes";
inline const std::string cube_group = "/cube";
inline const std::string replicate_name = "replicate";
std::string trajectory_path(std::string_view metric);
std::string axis_path(std::string_view axis);
std::string cube_scale_path(std::string_view axis);  // the axis values as a dimension scale inside /cube
std::string cube_path(std::string_view metric);      // /cube/final_<metric>
std::string final_field(std::string_view metric);    // final_<metric>

// The names of the `status` enum, in value order (RowStatus).
inline constexpr std::array<std::string_view, 4> status_names{"pending", "done", "diverged", "failed"};

// The half of a /runs row that changes when a run finishes.
struct RowResult {
  std::int8_t status = 0;  // RowStatus
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
};

// The /runs row type. A row in memory is the identity fields (laid out at run time from the parameter table)
// followed by a RowResult; the file holds the same fields packed, in the format's column order.
class RowLayout {
 public:
  RowLayout();
  [[nodiscard]] std::size_t identity_size() const { return identity_size_; }
  [[nodiscard]] std::size_t row_size() const { return identity_size_ + sizeof(RowResult); }
  // Memory types: the identity fields alone (identity_size bytes), a RowResult alone, and a whole row.
  [[nodiscard]] hid_t identity_type() const { return identity_type_.id(); }
  [[nodiscard]] hid_t result_type() const { return result_type_.id(); }
  [[nodiscard]] hid_t row_type() const { return row_type_.id(); }
  [[nodiscard]] h5::Datatype file_type() const { return row_type_.packed(); }

  void encode(const RowIdentity& identity, std::byte* out) const;
  [[nodiscard]] RowIdentity decode(const std::byte* in) const;

 private:
  struct ParamField {
    const science::ParamSpec* spec;
    std::size_t offset;
    std::size_t size;  // bytes of a choice's fixed-length string; 8 otherwise
  };
  std::vector<ParamField> params_;
  std::size_t identity_size_ = 0;
  h5::Datatype status_type_;
  std::vector<h5::Datatype> string_types_;
  h5::Datatype identity_type_;
  h5::Datatype result_type_;
  h5::Datatype row_type_;
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
