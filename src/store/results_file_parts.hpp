#pragma once
// What the parts of the results file share (not for use outside src/store): the files that open, build, grow,
// write and read it. See results_file.hpp for the interface.

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "spec/sweep_spec.hpp"
#include "store/file_system.hpp"
#include "store/h5.hpp"
#include "store/layout.hpp"
#include "store/results_file.hpp"

namespace hetsweep::store::parts {

using layout::RowIdentity;
using layout::RowResult;

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();
inline constexpr std::size_t metric_count = layout::metric_count;

// Chunk caches of the datasets written most, sized for the writer's pattern: rows finish roughly in order and
// are written in batches at flush(), so the chunks around the current rows stay in the cache until complete.
inline constexpr std::size_t runs_cache_bytes = std::size_t{8} << 20;
inline constexpr std::size_t trajectory_cache_bytes = std::size_t{8} << 20;
// Rows per read or write when walking all of /runs.
inline constexpr hsize_t io_block_rows = hsize_t{1} << 16;

inline std::filesystem::path directory_of(const std::filesystem::path& path) {
  const auto parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

// ---------------------------------------------------------------------------------------------------------
// Walking /runs.

// Calls visit(row, identity, result) for every row, reading io_block_rows at a time. The identity's origin is
// grid unless `rows` has one. Each block is one read of whole rows: a read per field group made HDF5 read, and
// checksum, every chunk once per group.
// for_each_row_in visits rows begin .. n - 1 alone.
template <class Visit>
void for_each_row_in(const h5::Dataset& runs, const layout::RowLayout& rows, hsize_t begin, hsize_t n, Visit&& visit) {
  const std::size_t row_size = rows.row_size();
  std::vector<std::byte> buffer;
  RowResult result;
  auto file_space = runs.space();
  for (hsize_t first = begin; first < n; first += io_block_rows) {
    const hsize_t count = std::min(io_block_rows, n - first);
    buffer.resize(count * row_size);
    file_space.select_block(std::array{first}, std::array{count});
    runs.read(rows.row_type(), h5::Dataspace::simple(std::array{count}), file_space, buffer.data());
    for (hsize_t i = 0; i < count; ++i) {
      const std::byte* row = buffer.data() + i * row_size;
      auto identity = rows.decode(row);
      std::memcpy(&result, row + rows.identity_size(), sizeof result);
      identity.origin = static_cast<std::int8_t>(RowOrigin::grid);
      if (rows.has_origin()) std::memcpy(&identity.origin, row + rows.origin_offset(), 1);
      visit(static_cast<std::int64_t>(first + i), identity, result);
    }
  }
}

template <class Visit>
void for_each_row(const h5::Dataset& runs, const layout::RowLayout& rows, Visit&& visit) {
  for_each_row_in(runs, rows, 0, runs.dims().at(0), std::forward<Visit>(visit));
}

inline std::vector<std::int64_t> read_steps(const h5::Dataset& steps) {
  std::vector<std::int64_t> values(steps.dims().at(0));
  steps.read_all(H5T_NATIVE_INT64, values.data());
  return values;
}

// The per-run coordinates of /trajectories: every grid axis, then the replicate.
inline std::vector<std::string> run_coordinate_names(const spec::SweepSpec& spec) {
  std::vector<std::string> names;
  for (const auto& axis : spec.axes) names.push_back(axis.name);
  names.push_back(layout::replicate_name);
  return names;
}

// ---------------------------------------------------------------------------------------------------------
// Opening (file_opening.cpp): path checks, locking, HDF5's refusals as ResultsFileErrors.

// The file a writer writes for the output `path`: a symbolic link's final target (followed even when it does
// not exist yet, so that a dangling link creates its target), else `path` itself. Throws
// std::filesystem::filesystem_error when the OS refuses to read a link.
std::filesystem::path resolve_output(const std::filesystem::path& path);
// Throws ResultsFileError unless --restart may replace the existing file at `path`: an empty file, or one that
// opens as a hetsweep results file of either format (damaged rows or another spec's included). Any other file
// is somebody's data.
void check_replaceable(const std::filesystem::path& path);

// What an existing file holds, read without modifying it.
struct StoredSweep {
  spec::SweepSpec spec;
  std::vector<std::uint64_t> keys;  // per row
  std::vector<std::int64_t> steps;
};

// Opens an existing file, turning HDF5's refusals into what the user should know.
h5::File open_existing(const std::filesystem::path& path, h5::Access access, bool recover_after_crash);
// Checks that `file` is a results file of a format this version reads, and returns the format.
layout::Format stored_format(const std::filesystem::path& path, const h5::File& file);
// Checks that `file` is a results file (stored_format) and returns its spec, parsed.
spec::SweepSpec stored_spec(const std::filesystem::path& path, const h5::File& file);
// Reads a hetsweep-2 file to resume it (a hetsweep-1 file is refused), every row checked against its spec.
StoredSweep read_stored(const std::filesystem::path& path);

ResultsFileError another_writer(const std::filesystem::path& path);
// The writer's lock on the file at `path`; refused while another writer holds it.
WriterLock lock_for_writing(const std::filesystem::path& path);

// ---------------------------------------------------------------------------------------------------------
// Building (file_building.cpp).

// Writes grid points as new rows `first_row`, `first_row + 1`, ...: pending /runs rows, their row numbers in
// /run and /trajectories/run, and their per-run coordinates. The datasets already have room for them.
void write_new_rows(const h5::File& file, const layout::RowLayout& rows, const spec::SweepSpec& spec,
                    std::span<const std::int64_t> grid_indices, std::int64_t first_row);
// The same for any points (refinement runs: off the grid on the refine axis), as rows of `origin`; a layout
// without origin writes none.
void write_rows(const h5::File& file, const layout::RowLayout& rows, const spec::SweepSpec& spec,
                std::span<const spec::RunPoint> points, std::int64_t first_row, RowOrigin origin);

// /boundary for a spec with a refine block: its attributes and its columns, empty, along the scale `crossing`
// (chunked and extensible, so the SWMR writer can rewrite them).
void create_boundary(const h5::File& file, const spec::SweepSpec& spec);

// The cube's contents: the final metrics of done runs (NaN elsewhere) and every run's status, by cell.
struct CubeValues {
  std::array<std::vector<double>, metric_count> finals;
  std::vector<std::int8_t> status;
};

// /axes/<name> holds each axis's values; /cube/<name> is a second link to the same dataset, a dimension
// scale of the cube arrays, which netCDF readers (h5netcdf, xarray) want in the group they open.
// `values` empty: all NaN and pending.
void create_axes_and_cube(const h5::File& file, const spec::SweepSpec& spec, const CubeValues& values_by_cell);

// Builds the whole file for `spec` at `path` (truncating it), every run pending.
void build_new_file(const std::filesystem::path& path, const spec::SweepSpec& spec, const layout::RowLayout& rows);

// ---------------------------------------------------------------------------------------------------------
// Growing (growing.cpp).

// Brings `copy`, a copy of the file at `path`, up to `spec`: new grid points become pending rows (with their row
// numbers and per-run coordinates), trajectories grow to the new rows and steps, /axes and /cube are rebuilt
// for the new axes, the spec attribute is replaced.
// /boundary is added when `spec` has a refine block and the file has none yet.
void grow_file(const std::filesystem::path& path, const std::filesystem::path& copy, const spec::SweepSpec& spec,
               const StoredSweep& stored, std::span<const std::int64_t> new_points,
               std::span<const std::int64_t> steps);

}  // namespace hetsweep::store::parts
