#pragma once
// Trust nothing read back: every /runs row of a file being opened is checked against the file's spec before
// anything uses it, so that a damaged or edited row is refused instead of being resumed, merged or reported.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <unordered_map>
#include <vector>

#include "spec/grid.hpp"
#include "spec/sweep_spec.hpp"
#include "store/layout.hpp"

namespace hetsweep::store {

class RowCheck {
 public:
  // Keeps references to `spec`, which must outlive the check.
  RowCheck(const std::filesystem::path& path, const spec::SweepSpec& spec);
  RowCheck(const std::filesystem::path&, spec::SweepSpec&&) = delete;

  // What point_of returns for a refinement row, which has no grid point and no cube cell.
  static constexpr std::int64_t off_grid = -1;

  // Returns the row's grid point (its index in spec::Grid order, which is its cube cell) after checking that
  // its status is 0..3, `run` is its row index, its replicate and parameters are on the spec's axes and equal
  // to the spec's fixed values, its key and seed are those of its parameters, and no earlier row had its key.
  // A refinement row (origin 1) returns off_grid; it is checked the same way, except that the value of the
  // spec's refine axis must be finite and strictly between that axis's smallest and largest value (a spec
  // without a refine block has no refinement rows). Throws ResultsFileError naming the row and the field
  // otherwise.
  std::int64_t point_of(std::int64_t row, const layout::RowIdentity& identity, const layout::RowResult& result);
  // The check of the fields a writer changes (the status), for a row whose identity point_of checked before.
  void check_result(std::int64_t row, const layout::RowResult& result) const;
  // Takes back the key of a refinement row point_of accepted, for rows checked but then not written.
  void forget_refinement(std::uint64_t key);
  // Whether a refinement row checked so far has `key` (a refinement run at a grid value has its grid point's
  // key: then the grid row's key too).
  [[nodiscard]] bool has_refinement_key(std::uint64_t key) const { return refinement_rows_.contains(key); }

 private:
  [[noreturn]] void refuse(std::int64_t row, std::string_view field, const std::string& problem) const;
  // The parameters a refinement row must have: the grid's, with the row's value of the refine axis.
  science::Params refine_params(std::int64_t row, const layout::RowIdentity& identity) const;
  // Refuses `stored` unless it equals `expected`, naming the first parameter that differs.
  void compare_params(std::int64_t row, const science::Params& stored, const science::Params& expected) const;
  // Refuses the row unless its key is `key` and its seed that key's seed.
  void check_key_and_seed(std::int64_t row, const layout::RowIdentity& identity, std::uint64_t key) const;
  // The grid point of these parameters and replicate, or nullopt when one is off the grid.
  [[nodiscard]] std::optional<std::int64_t> grid_point(const science::Params& params, std::int64_t replicate) const;
  // Marks `point` as seen in `row`, refusing a point seen before (with its key, `key`).
  void see_point(std::int64_t row, std::int64_t point, std::uint64_t key);

  const std::filesystem::path& path_;
  const spec::SweepSpec& spec_;
  spec::Grid grid_;
  layout::CubeIndex cube_;
  // The row seen with each grid point, or -1. A grid row's key is checked to be its point's key, so a key seen
  // twice among grid rows is a point seen twice: a flat array, not a hash map of every key (most of a check of
  // a million rows went to such a map's cache misses).
  std::vector<std::int64_t> row_of_point_;
  // The refinement rows: their key, row and grid point (off_grid unless the refine value is on the axis).
  struct RefinementRow {
    std::int64_t row;
    std::int64_t point;
  };
  std::unordered_map<std::uint64_t, RefinementRow> refinement_rows_;
};

}  // namespace hetsweep::store
