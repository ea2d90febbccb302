#pragma once
// Trust nothing read back: every /runs row of a file being opened is checked against the file's spec before
// anything uses it, so that a damaged or edited row is refused instead of being resumed, merged or reported.

#include <cstdint>
#include <filesystem>
#include <unordered_map>

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
  // Takes back a key point_of accepted, for rows checked but then not written.
  void forget(std::uint64_t key) { row_of_key_.erase(key); }
  // Whether a row checked so far has `key`.
  [[nodiscard]] bool has_key(std::uint64_t key) const { return row_of_key_.contains(key); }

 private:
  [[noreturn]] void refuse(std::int64_t row, std::string_view field, const std::string& problem) const;
  // The parameters a refinement row must have: the grid's, with the row's value of the refine axis.
  science::Params refine_params(std::int64_t row, const layout::RowIdentity& identity) const;

  const std::filesystem::path& path_;
  const spec::SweepSpec& spec_;
  spec::Grid grid_;
  layout::CubeIndex cube_;
  std::unordered_map<std::uint64_t, std::int64_t> row_of_key_;
};

}  // namespace hetsweep::store
