#include "store/verify.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "science/records.hpp"
#include "science/simulate.hpp"
#include "spec/grid.hpp"
#include "store/h5.hpp"
#include "store/layout.hpp"
#include "store/results_file.hpp"
#include "store/results_file_parts.hpp"
#include "store/row_check.hpp"

namespace hetsweep::store {
namespace {

namespace fs = std::filesystem;
using layout::RowIdentity;
using layout::RowResult;

constexpr std::size_t metric_count = layout::metric_count;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
// Problems listed per kind and dataset; a file damaged everywhere gets a count for the rest.
constexpr std::int64_t lines_per_kind = 50;
// A dimension of any length, for expect().
constexpr hsize_t any_length = std::numeric_limits<hsize_t>::max();
// Trajectory values per metric read at once (2 MiB).
constexpr hsize_t block_values = hsize_t{1} << 18;

constexpr auto pending = static_cast<std::int8_t>(science::RowStatus::pending);
constexpr auto done = static_cast<std::int8_t>(science::RowStatus::done);
constexpr auto diverged = static_cast<std::int8_t>(science::RowStatus::diverged);
constexpr auto failed = static_cast<std::int8_t>(science::RowStatus::failed);

// The same stored value: the same bits, or both NaN (a NaN's payload carries nothing).
bool same_value(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b) || (std::isnan(a) && std::isnan(b));
}
std::string show(double v) { return fmt::format("{:.17g}", v); }
std::string_view status_name(std::int8_t status) {
  return status >= 0 && status < 4 ? layout::status_names[static_cast<std::size_t>(status)] : "invalid";
}

// What went wrong in a failed HDF5 read, in words.
std::string read_failure(const h5::Error& e) {
  if (e.failure() == h5::Failure::checksum) return "damaged chunk: its Fletcher32 checksum does not match its data";
  return fmt::format("the chunk cannot be read ({})",
                     e.stack().empty() ? std::string(e.what()) : e.stack().back().description);
}

class Findings {
 public:
  void add(const std::string& kind, std::string line) {
    ++total_;
    if (++count_[kind] <= lines_per_kind) lines_.push_back(std::move(line));
  }
  void finish(VerifyReport& report) {
    report.problems = std::move(lines_);
    report.problem_count = total_;
    for (const auto& [kind, n] : count_) {
      if (n <= lines_per_kind) continue;
      report.problems.push_back(fmt::format("{}: {} more problems of this kind not listed", kind, n - lines_per_kind));
    }
  }

 private:
  std::vector<std::string> lines_;
  std::map<std::string, std::int64_t> count_;
  std::int64_t total_ = 0;
};

h5::File open_results(const fs::path& path) {
  if (!fs::exists(path)) throw ResultsFileError(path, "does not exist");
  if (!fs::is_regular_file(path)) throw ResultsFileError(path, "is not a regular file");
  // As a SWMR reader, so that a file a sweep is writing can be checked; a file of an older HDF5 format opens
  // only plainly.
  try {
    return parts::open_existing(path, h5::Access::read_swmr, false);
  } catch (const ResultsFileError&) {
  }
  return parts::open_existing(path, h5::Access::read, false);
}

// The type a dataset must have.
enum class Kind { int64, float64, int8, string };
std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::int64:
      return "int64";
    case Kind::float64:
      return "float64";
    case Kind::int8:
      return "int8";
    case Kind::string:
      return "string";
  }
  return "";
}
bool has_kind(hid_t type, Kind kind) {
  const auto type_class = H5Tget_class(type);
  const auto size = H5Tget_size(type);
  switch (kind) {
    case Kind::int64:
      return type_class == H5T_INTEGER && size == 8 && H5Tget_sign(type) == H5T_SGN_2;
    case Kind::float64:
      return type_class == H5T_FLOAT && size == 8;
    case Kind::int8:
      return type_class == H5T_INTEGER && size == 1;
    case Kind::string:
      return type_class == H5T_STRING;
  }
  return false;
}
hid_t memory_type(Kind kind) {
  switch (kind) {
    case Kind::int64:
      return H5T_NATIVE_INT64;
    case Kind::float64:
      return H5T_NATIVE_DOUBLE;
    case Kind::int8:
      return H5T_NATIVE_INT8;
    case Kind::string:
      return H5T_NATIVE_INT8;  // not used: strings are read as variable_string
  }
  return H5T_NATIVE_INT8;
}
std::string shape_text(const std::vector<hsize_t>& dims) {
  std::vector<std::string> sizes;
  for (auto d : dims) sizes.push_back(d == any_length ? std::string("n") : std::to_string(d));
  return fmt::format("({})", fmt::join(sizes, ", "));
}

// Reads rows of a chunked dataset of one or two dimensions, every column. A failed read (a damaged chunk fails
// its checksum) is read again chunk by chunk: each chunk that fails is reported once, with its rows, and its
// rows are marked unreadable, so that one bad chunk hides nothing else.
class RowReader {
 public:
  RowReader(const h5::Dataset& dataset, std::string where, hid_t mem_type, std::size_t value_size, Findings& findings)
      : dataset_(dataset), where_(std::move(where)), mem_type_(mem_type), value_size_(value_size), findings_(findings) {
    const auto dims = dataset.dims();
    rank_ = dims.size();
    rows_ = dims.at(0);
    columns_ = rank_ == 2 ? dims[1] : 1;
    chunk_ = {rows_ == 0 ? 1 : rows_, columns_ == 0 ? 1 : columns_};
    const h5::PropertyList create(h5::check(H5Dget_create_plist(dataset.id()), "H5Dget_create_plist", where_));
    if (H5Pget_layout(create.id()) == H5D_CHUNKED) {
      std::array<hsize_t, 2> chunk{1, 1};
      h5::check(H5Pget_chunk(create.id(), static_cast<int>(rank_), chunk.data()), "H5Pget_chunk", where_);
      chunk_ = {chunk[0], rank_ == 2 ? chunk[1] : 1};
    }
  }
  [[nodiscard]] hsize_t columns() const { return columns_; }

  // Rows [first, first + count) into `out` (count x columns values); returns per row whether it was read whole.
  std::vector<char> read(hsize_t first, hsize_t count, void* out) {
    std::vector<char> readable(count, 1);
    if (count == 0 || columns_ == 0) return readable;
    try {
      read_region(first, count, 0, columns_, out);
      return readable;
    } catch (const h5::Error&) {
    }
    auto* bytes = static_cast<std::byte*>(out);
    std::vector<std::byte> region;
    for (hsize_t r0 = first - first % chunk_[0]; r0 < first + count; r0 += chunk_[0]) {
      const hsize_t lo = std::max(r0, first);
      const hsize_t hi = std::min(r0 + chunk_[0], first + count);
      for (hsize_t c0 = 0; c0 < columns_; c0 += chunk_[1]) {
        const hsize_t width = std::min(chunk_[1], columns_ - c0);
        region.assign((hi - lo) * width * value_size_, std::byte{0});
        try {
          read_region(lo, hi - lo, c0, width, region.data());
          for (hsize_t r = lo; r < hi; ++r) {
            std::memcpy(bytes + ((r - first) * columns_ + c0) * value_size_,
                        region.data() + (r - lo) * width * value_size_, width * value_size_);
          }
        } catch (const h5::Error& e) {
          for (hsize_t r = lo; r < hi; ++r) readable[r - first] = 0;
          if (reported_.insert({r0, c0}).second) {
            const hsize_t last_row = std::min(r0 + chunk_[0], rows_) - 1;
            const std::string cells = width < columns_ ? fmt::format(", columns {}..{}", c0, c0 + width - 1) : "";
            findings_.add(where_ + ": checksum",
                          fmt::format("{} rows {}..{}{}: {}", where_, r0, last_row, cells, read_failure(e)));
          }
        }
      }
    }
    return readable;
  }

 private:
  void read_region(hsize_t row, hsize_t rows, hsize_t column, hsize_t columns, void* out) const {
    auto file_space = dataset_.space();
    if (rank_ == 2) {
      file_space.select_block(std::array{row, column}, std::array{rows, columns});
      dataset_.read(mem_type_, h5::Dataspace::simple(std::array{rows, columns}), file_space, out);
    } else {
      file_space.select_block(std::array{row}, std::array{rows});
      dataset_.read(mem_type_, h5::Dataspace::simple(std::array{rows}), file_space, out);
    }
  }

  const h5::Dataset& dataset_;
  std::string where_;
  hid_t mem_type_;
  std::size_t value_size_;
  Findings& findings_;
  std::size_t rank_ = 1;
  hsize_t rows_ = 0;
  hsize_t columns_ = 1;
  std::array<hsize_t, 2> chunk_{1, 1};
  std::set<std::pair<hsize_t, hsize_t>> reported_;
};

// What the later checks need of a /runs row.
struct RowInfo {
  bool usable = false;  // read whole and passed the row check
  std::uint64_t key = 0;
  std::int8_t status = pending;
  std::int64_t cell = -1;
  std::int64_t steps_done = 0;
  std::int64_t steps = 0;
  std::int64_t record_every = 1;
  std::array<double, metric_count> finals{};
};

// A per-run dataset: /run, /trajectories/run, or a per-run coordinate.
struct PerRun {
  std::string where;
  std::string parameter;  // empty: the row number; "replicate"; or an axis
  Kind kind;
  h5::Dataset dataset;
};

class Verifier {
 public:
  Verifier(const fs::path& path, const VerifyOptions& options) : path_(path), options_(options) {}

  VerifyReport run() {
    report_.verifier_version = HETSWEEP_VERSION;
    file_ = open_results(path_);
    read_root();
    try {
      check_structure();
      if (runs_.valid()) {
        check_rows();
        check_cube();
        recheck_pending_rows();
        recompute();
      }
    } catch (const h5::Error& e) {
      // Damage the checks above do not expect (an unreadable object header, a broken chunk index).
      problem("/", "hdf5", fmt::format("the check stopped here: {}", e.what()));
    }
    findings_.finish(report_);
    return std::move(report_);
  }

 private:
  void problem(const std::string& where, const std::string& kind, std::string line) {
    findings_.add(where + ": " + kind, std::move(line));
  }

  // --- the file as a whole --------------------------------------------------------------------------------

  void read_root() {
    try {
      format_ = parts::stored_format(path_, file_);
      report_.format = v2() ? layout::format_v2_name : layout::format_v1_name;
      spec_ = parts::stored_spec(path_, file_);
      for (const auto* attribute : {"hetsweep_version", "name", "fingerprint", "created"}) {
        const auto value = h5::read_string_attribute(file_, "/", attribute);
        if (!value) problem("/", "attributes", fmt::format("/: the root attribute `{}` is missing", attribute));
        if (value && std::string_view(attribute) == "hetsweep_version") report_.writer_version = *value;
      }
    } catch (const h5::Error& e) {
      throw ResultsFileError(path_, fmt::format("has unreadable root attributes: {}", e.what()));
    }
    rows_layout_ = layout::RowLayout(format_);
    grid_.emplace(spec_);
    cube_index_.emplace(spec_);
  }

  [[nodiscard]] bool v2() const { return format_ == layout::Format::hetsweep_2; }

  // Whether the absolute `path` names an object; HDF5 fails rather than answer when a group on the way is
  // missing, so each group is asked for in turn.
  [[nodiscard]] bool link_exists(const std::string& path) const {
    for (auto slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
      if (!h5::exists(file_, path.substr(0, slash))) return false;
      if (slash == std::string::npos) return true;
    }
  }

  // Opens a dataset that must exist with this type class and shape (chunked with checksums in hetsweep-2
  // when `chunked`); reports what differs and returns an invalid handle then.
  h5::Dataset expect(const std::string& where, std::optional<Kind> kind, const std::vector<hsize_t>& dims,
                     bool chunked) {
    h5::Dataset dataset;
    try {
      if (!link_exists(where)) {
        problem(where, "structure", fmt::format("{}: missing", where));
        return {};
      }
      dataset = h5::Dataset::open(file_, where);
    } catch (const h5::Error& e) {
      problem(where, "structure", fmt::format("{}: cannot be opened as a dataset: {}", where, e.what()));
      return {};
    }
    const auto type = dataset.type();
    if (kind && !has_kind(type.id(), *kind)) {
      problem(where, "structure", fmt::format("{}: is not of type {}", where, kind_name(*kind)));
      return {};
    }
    const auto shape = dataset.dims();
    const bool same_shape = shape.size() == dims.size() &&
                            std::equal(shape.begin(), shape.end(), dims.begin(), [](hsize_t stored, hsize_t wanted) {
                              return wanted == any_length || stored == wanted;
                            });
    if (!same_shape) {
      problem(where, "structure", fmt::format("{}: has shape {}, not {}", where, shape_text(shape), shape_text(dims)));
      return {};
    }
    if (chunked && v2()) {
      const h5::PropertyList create(h5::check(H5Dget_create_plist(dataset.id()), "H5Dget_create_plist", where));
      bool fletcher32 = false;
      const int filters = H5Pget_nfilters(create.id());
      for (int i = 0; i < filters; ++i) {
        unsigned flags = 0;
        std::size_t n = 0;
        fletcher32 = fletcher32 || H5Pget_filter2(create.id(), static_cast<unsigned>(i), &flags, &n, nullptr, 0,
                                                  nullptr, nullptr) == H5Z_FILTER_FLETCHER32;
      }
      const bool variable_string = H5Tis_variable_str(type.id()) > 0;
      if (H5Pget_layout(create.id()) != H5D_CHUNKED) {
        problem(where, "structure", fmt::format("{}: is not chunked", where));
      } else if (!fletcher32 && !variable_string) {
        problem(where, "structure", fmt::format("{}: has no Fletcher32 checksum filter", where));
      }
    }
    return dataset;
  }

  void check_structure() {
    const auto n_runs = static_cast<hsize_t>(grid_->size());
    // /runs first: its length is every per-run dataset's.
    try {
      if (!link_exists(layout::runs_path)) {
        problem(layout::runs_path, "structure", fmt::format("{}: missing", layout::runs_path));
      } else {
        runs_ = h5::Dataset::open(file_, layout::runs_path);
        // With the origin field when /runs has one (files written before refinement existed have none).
        rows_layout_ = layout::RowLayout::of(format_, runs_);
      }
    } catch (const h5::Error& e) {
      problem(layout::runs_path, "structure", fmt::format("{}: cannot be opened: {}", layout::runs_path, e.what()));
    }
    if (runs_.valid()) {
      const auto type = runs_.type();
      const auto expected = rows_layout_.file_type();
      const auto dims = runs_.dims();
      if (dims.size() != 1 || h5::check(H5Tequal(type.id(), expected.id()), "H5Tequal", layout::runs_path) <= 0) {
        problem(
            layout::runs_path, "structure",
            fmt::format("{}: is not a one-dimensional dataset of the {} row type", layout::runs_path, report_.format));
        runs_ = {};
      } else {
        rows_ = dims[0];
        report_.rows = static_cast<std::int64_t>(rows_);
        // Refinement rows (only in files with the origin field) come on top of the grid's.
        if (rows_ < n_runs || (rows_ > n_runs && !rows_layout_.has_origin())) {
          problem(
              layout::runs_path, "structure",
              fmt::format("{}: has {} rows, but the stored spec's grid has {} runs", layout::runs_path, rows_, n_runs));
        }
        expect(layout::runs_path, std::nullopt, {rows_}, true);
      }
    }
    if (v2()) {
      const h5::Datatype committed(H5Topen2(file_.id(), layout::row_type_path.c_str(), H5P_DEFAULT));
      H5Eclear2(H5E_DEFAULT);  // a missing type is reported below
      const auto& where = layout::row_type_path;
      if (!committed.valid()) {
        problem(where, "structure", fmt::format("{}: the committed row type is missing", where));
      } else if (H5Tequal(committed.id(), rows_layout_.file_type().id()) <= 0) {
        problem(where, "structure", fmt::format("{}: is not the hetsweep-2 row type", where));
      }
    }

    // The step columns: sorted, and holding every record step of the spec.
    if (const auto step = expect(layout::steps_path, Kind::int64, {any_length}, true); step.valid()) {
      steps_.resize(step.dims()[0]);
      RowReader reader(step, layout::steps_path, H5T_NATIVE_INT64, 8, findings_);
      const auto readable = reader.read(0, steps_.size(), steps_.data());
      steps_valid_ = std::all_of(readable.begin(), readable.end(), [](char r) { return r != 0; });
      if (steps_valid_) check_steps();
    }

    if (v2() && rows_ > 0) {
      per_run_.push_back({layout::run_path, "", Kind::int64, expect(layout::run_path, Kind::int64, {rows_}, true)});
      per_run_.push_back({layout::trajectory_run_path, "", Kind::int64,
                          expect(layout::trajectory_run_path, Kind::int64, {rows_}, true)});
      for (const auto& axis : spec_.axes) {
        const auto* param = science::find_parameter(axis.name);
        Kind kind = Kind::int64;
        if (param->kind == science::ParamKind::real) kind = Kind::float64;
        if (param->kind == science::ParamKind::choice) kind = Kind::string;
        const auto where = layout::trajectory_path(axis.name);
        per_run_.push_back({where, axis.name, kind, expect(where, kind, {rows_}, true)});
      }
      const auto where = layout::trajectory_path(layout::replicate_name);
      per_run_.push_back({where, layout::replicate_name, Kind::int64, expect(where, Kind::int64, {rows_}, true)});
    }
    if (runs_.valid() && steps_valid_) {
      for (std::size_t m = 0; m < metric_count; ++m) {
        trajectories_[m] = expect(layout::trajectory_path(science::metric_names[m]), Kind::float64,
                                  {rows_, static_cast<hsize_t>(steps_.size())}, true);
      }
    }
    check_axes();
    std::vector<hsize_t> shape;
    for (auto n : cube_index_->shape()) shape.push_back(static_cast<hsize_t>(n));
    for (std::size_t m = 0; m < metric_count; ++m) {
      cube_[m] = expect(layout::cube_path(science::metric_names[m]), Kind::float64, shape, false);
    }
    if (v2()) cube_status_ = expect(layout::cube_status_path, Kind::int8, shape, false);
  }

  void check_steps() {
    const auto& where = layout::steps_path;
    for (std::size_t c = 1; c < steps_.size(); ++c) {
      if (steps_[c] <= steps_[c - 1]) {
        problem(where, "content",
                fmt::format("{}[{}]: {} does not follow {} in increasing order", where, c, steps_[c], steps_[c - 1]));
        steps_valid_ = false;
        return;
      }
    }
    for (const auto step : layout::record_step_union(spec_)) {
      if (!std::binary_search(steps_.begin(), steps_.end(), step)) {
        problem(where, "content", fmt::format("{}: the spec's record step {} has no column", where, step));
      }
    }
  }

  // /axes/<axis> hold the spec's axis values; /cube/<axis> and /cube/replicate are the cube's scales.
  void check_axes() {
    for (const auto& axis : spec_.axes) {
      const auto* param = science::find_parameter(axis.name);
      const std::vector<hsize_t> dims{axis.values.size()};
      for (const auto& where : {layout::axis_path(axis.name), layout::cube_scale_path(axis.name)}) {
        Kind kind = Kind::int64;
        if (param->kind == science::ParamKind::real) kind = Kind::float64;
        if (param->kind == science::ParamKind::choice) kind = Kind::string;
        const auto dataset = expect(where, kind, dims, false);
        if (!dataset.valid()) continue;
        try {
          for (std::size_t i = 0; i < axis.values.size(); ++i) {
            const auto expected = layout::normalized(param->kind, axis.values[i]);
            const auto stored = read_value(dataset, kind, i);
            if (stored != expected) {
              problem(where, "content",
                      fmt::format("{}[{}]: {} is not the spec's axis value {}", where, i, science::format_value(stored),
                                  science::format_value(expected)));
            }
          }
        } catch (const h5::Error& e) {
          problem(where, "content", fmt::format("{}: cannot be read: {}", where, e.what()));
        }
      }
    }
    const auto where = layout::cube_scale_path(layout::replicate_name);
    const auto replicate = expect(where, Kind::int64, {static_cast<hsize_t>(spec_.replicates)}, false);
    if (!replicate.valid()) return;
    try {
      for (std::int64_t r = 0; r < spec_.replicates; ++r) {
        const auto stored = std::get<std::int64_t>(read_value(replicate, Kind::int64, static_cast<std::size_t>(r)));
        if (stored != r) problem(where, "content", fmt::format("{}[{}]: {} is not {}", where, r, stored, r));
      }
    } catch (const h5::Error& e) {
      problem(where, "content", fmt::format("{}: cannot be read: {}", where, e.what()));
    }
  }

  // One value of a small one-dimensional dataset.
  static science::ParamValue read_value(const h5::Dataset& dataset, Kind kind, std::size_t index) {
    auto file_space = dataset.space();
    file_space.select_block(std::array{static_cast<hsize_t>(index)}, std::array{hsize_t{1}});
    const auto one = h5::Dataspace::simple(std::array{hsize_t{1}});
    switch (kind) {
      case Kind::float64: {
        double d = 0;
        dataset.read(H5T_NATIVE_DOUBLE, one, file_space, &d);
        return d;
      }
      case Kind::string: {
        char* text = nullptr;
        const auto type = h5::Datatype::variable_string();
        dataset.read(type.id(), one, file_space, &text);
        std::string s = text == nullptr ? "" : text;
        H5free_memory(text);
        return s;
      }
      default: {
        std::int64_t i = 0;
        dataset.read(H5T_NATIVE_INT64, one, file_space, &i);
        return i;
      }
    }
  }

  // --- rows, block by block -----------------------------------------------------------------------------

  void check_rows() {
    info_.resize(rows_);
    RowCheck row_check(path_, spec_);
    runs_reader_.emplace(runs_, layout::runs_path, rows_layout_.row_type(), rows_layout_.row_size(), findings_);
    std::vector<std::optional<RowReader>> per_run_readers;
    for (auto& per_run : per_run_) {
      if (!per_run.dataset.valid()) {
        per_run_readers.emplace_back();
        continue;
      }
      const bool string = per_run.kind == Kind::string;
      per_run_readers.emplace_back(std::in_place, per_run.dataset, per_run.where,
                                   string ? string_type_.id() : memory_type(per_run.kind), 8, findings_);
    }
    for (std::size_t m = 0; m < metric_count; ++m) {
      if (trajectories_[m].valid()) {
        trajectory_readers_[m].emplace(trajectories_[m], layout::trajectory_path(science::metric_names[m]),
                                       H5T_NATIVE_DOUBLE, 8, findings_);
      }
    }
    const hsize_t columns = steps_.size();
    const hsize_t block = block_rows();
    std::vector<std::byte> rows;
    std::vector<std::uint64_t> values;  // one 8-byte value per row: int64, double or char*
    std::vector<double> trajectory;
    std::vector<RowIdentity> identities;
    for (hsize_t first = 0; first < rows_; first += block) {
      const hsize_t count = std::min(block, rows_ - first);
      // /runs first: the writer writes a row's trajectories and cube cells before the row.
      rows.assign(count * rows_layout_.row_size(), std::byte{0});
      const auto readable = runs_reader_->read(first, count, rows.data());
      identities.assign(count, {});
      for (hsize_t i = 0; i < count; ++i) {
        if (!readable[i]) continue;
        const auto row = static_cast<std::int64_t>(first + i);
        const std::byte* bytes = rows.data() + i * rows_layout_.row_size();
        identities[i] = rows_layout_.decode(bytes);
        if (rows_layout_.has_origin()) std::memcpy(&identities[i].origin, bytes + rows_layout_.origin_offset(), 1);
        RowResult result;
        std::memcpy(&result, bytes + rows_layout_.identity_size(), sizeof result);
        check_row(row_check, row, identities[i], result);
      }
      for (std::size_t d = 0; d < per_run_.size(); ++d) {
        if (!per_run_readers[d]) continue;
        values.assign(count, 0);
        const auto read = per_run_readers[d]->read(first, count, values.data());
        check_per_run(per_run_[d], first, read, identities, values);
      }
      for (std::size_t m = 0; m < metric_count; ++m) {
        if (!trajectory_readers_[m]) continue;
        trajectory.assign(count * columns, nan);
        const auto read = trajectory_readers_[m]->read(first, count, trajectory.data());
        for (hsize_t i = 0; i < count; ++i) {
          if (read[i] && info_[first + i].usable) check_trajectory(first + i, m, trajectory.data() + i * columns);
        }
      }
    }
  }

  // Rows read at once: about block_values trajectory values per metric.
  [[nodiscard]] hsize_t block_rows() const {
    return std::max<hsize_t>(64, block_values / std::max<hsize_t>(steps_.size(), 1));
  }

  void check_row(RowCheck& row_check, std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    auto& info = info_[static_cast<std::size_t>(row)];
    try {
      info.cell = row_check.point_of(row, identity, result);
    } catch (const ResultsFileError& e) {
      // "PATH: is damaged: /runs row R, field F: ..." without the path.
      std::string message = e.what();
      const auto damaged = message.find("is damaged: ");
      if (damaged != std::string::npos) message = message.substr(damaged + 12);
      problem(layout::runs_path, "row check", message);
      return;
    }
    info.usable = true;
    info.key = identity.key;
    info.status = result.status;
    info.steps_done = result.steps_done;
    info.steps = identity.params.steps;
    info.record_every = identity.params.record_every;
    info.finals = result.finals;
    if (result.status != pending) ++report_.finished;

    const auto where = fmt::format("{} row {}", layout::runs_path, row);
    auto wrong = [&](const std::string& what) {
      problem(layout::runs_path, "status", fmt::format("{}: {}", where, what));
    };
    const bool finals_nan =
        std::all_of(result.finals.begin(), result.finals.end(), [](double v) { return std::isnan(v); });
    switch (result.status) {
      case pending:
        if (!finals_nan) wrong("pending, but its final metrics are not all NaN");
        if (result.finished_at != 0)
          wrong(fmt::format("pending, but finished_at is {}, not 0", show(result.finished_at)));
        if (result.steps_done != 0) wrong(fmt::format("pending, but steps_done is {}, not 0", result.steps_done));
        break;
      case done:
        for (std::size_t m = 0; m < metric_count; ++m) {
          if (!std::isfinite(result.finals[m])) {
            wrong(fmt::format("done, but final_{} is {}", science::metric_names[m], show(result.finals[m])));
          }
        }
        if (result.steps_done != info.steps) {
          wrong(fmt::format("done, but steps_done {} is not the run's steps {}", result.steps_done, info.steps));
        }
        break;
      case diverged:
        if (result.steps_done < 1 || result.steps_done > info.steps) {
          wrong(fmt::format("diverged, but steps_done {} is outside 1..{}", result.steps_done, info.steps));
        }
        break;
      case failed:
        if (!finals_nan) wrong("failed, but its final metrics are not all NaN");
        break;
      default:
        break;
    }
    if (result.status != pending && !(result.finished_at > 0)) {
      wrong(fmt::format("{}, but finished_at is {}", status_name(result.status), show(result.finished_at)));
    }
  }

  // A per-run dataset's values against the /runs rows: the row number, or the row's axis value or replicate.
  void check_per_run(const PerRun& per_run, hsize_t first, const std::vector<char>& read,
                     const std::vector<RowIdentity>& identities, std::vector<std::uint64_t>& values) {
    const auto* param = per_run.parameter.empty() || per_run.parameter == layout::replicate_name
                            ? nullptr
                            : science::find_parameter(per_run.parameter);
    for (std::size_t i = 0; i < read.size(); ++i) {
      const auto row = static_cast<std::int64_t>(first + i);
      science::ParamValue stored;
      if (per_run.kind == Kind::string) {
        auto* text = reinterpret_cast<char*>(values[i]);
        stored = std::string(text == nullptr ? "" : text);
        H5free_memory(text);
      } else if (per_run.kind == Kind::float64) {
        stored = std::bit_cast<double>(values[i]);
      } else {
        stored = std::bit_cast<std::int64_t>(values[i]);
      }
      if (!read[i]) continue;
      science::ParamValue expected = row;
      if (per_run.parameter == layout::replicate_name) {
        if (!info_[first + i].usable) continue;  // an unreadable or refused row is listed already
        expected = identities[i].replicate;
      } else if (param != nullptr) {
        if (!info_[first + i].usable) continue;
        expected = param->get(identities[i].params);
      }
      if (stored != expected) {
        problem(per_run.where, "content",
                fmt::format("{} row {}: {} differs from {}", per_run.where, row, science::format_value(stored),
                            per_run.parameter.empty()
                                ? fmt::format("the row number {}", row)
                                : fmt::format("/runs's {} {}", per_run.parameter, science::format_value(expected))));
      }
    }
  }

  // A trajectory row: values at the run's record steps up to steps_done (the last equal to the final
  // metrics), NaN elsewhere, all NaN for a pending or failed run.
  void check_trajectory(hsize_t row, std::size_t m, const double* values) {
    const auto& info = info_[row];
    const auto metric = science::metric_names[m];
    const auto where = layout::trajectory_path(metric);
    std::int64_t wrong = 0;
    std::string first;
    auto note = [&](std::string what) {
      if (wrong++ == 0) first = std::move(what);
    };
    const bool has_values = info.status == done || info.status == diverged;
    science::Params record_rule;
    record_rule.steps = info.steps;
    record_rule.record_every = info.record_every;
    for (std::size_t c = 0; c < steps_.size(); ++c) {
      const auto step = steps_[c];
      const double v = values[c];
      const bool recorded =
          has_values && step <= info.steps_done && step <= info.steps && science::is_record_step(record_rule, step);
      if (!recorded) {
        if (std::isnan(v)) continue;
        std::string why = !has_values              ? fmt::format("the run is {}", status_name(info.status))
                          : step > info.steps_done ? fmt::format("after steps_done {}", info.steps_done)
                                                   : std::string("not a record step of the run");
        note(fmt::format("step {}: {} where NaN belongs ({})", step, show(v), why));
      } else if (std::isnan(v) && (info.status == done || step < info.steps_done)) {
        note(fmt::format("step {}: NaN where the run recorded a value", step));
      } else if (step == info.steps_done && !same_value(v, info.finals[m])) {
        note(fmt::format("step {} (steps_done): {} differs from /runs final_{} {}", step, show(v), metric,
                         show(info.finals[m])));
      }
    }
    if (wrong == 0) return;
    auto line = fmt::format("{} row {}: {}{}", where, row, first,
                            wrong > 1 ? fmt::format(" (and {} more cells of this row)", wrong - 1) : "");
    if (info.status == pending) {
      held_[row].emplace_back(where + ": trajectory", std::move(line));
    } else {
      problem(where, "trajectory", std::move(line));
    }
  }

  // --- the cube -------------------------------------------------------------------------------------------

  std::string cell_text(std::int64_t cell) const {
    const auto point = grid_->point(cell);
    return fmt::format("[{}{}{}]", fmt::join(point.coords, ", "), point.coords.empty() ? "" : ", ", point.replicate);
  }

  void check_cube() {
    const auto cells = static_cast<std::size_t>(cube_index_->cells());
    std::array<std::vector<double>, metric_count> finals;
    for (std::size_t m = 0; m < metric_count; ++m) {
      if (!cube_[m].valid()) continue;
      finals[m].resize(cells);
      try {
        cube_[m].read_all(H5T_NATIVE_DOUBLE, finals[m].data());
      } catch (const h5::Error& e) {
        const auto where = layout::cube_path(science::metric_names[m]);
        problem(where, "content", fmt::format("{}: cannot be read: {}", where, e.what()));
        finals[m].clear();
      }
    }
    std::vector<std::int8_t> status;
    if (cube_status_.valid()) {
      status.resize(cells);
      try {
        cube_status_.read_all(H5T_NATIVE_INT8, status.data());
      } catch (const h5::Error& e) {
        problem(layout::cube_status_path, "content",
                fmt::format("{}: cannot be read: {}", layout::cube_status_path, e.what()));
        status.clear();
      }
    }
    std::vector<char> covered(cells, 0);
    bool every_row_usable = true;
    for (std::size_t row = 0; row < info_.size(); ++row) {
      const auto& info = info_[row];
      if (!info.usable) {
        every_row_usable = false;
        continue;
      }
      if (info.cell == RowCheck::off_grid) continue;  // a refinement row has no cube cell
      const auto cell = static_cast<std::size_t>(info.cell);
      covered[cell] = 1;
      auto report = [&](const std::string& where, std::string line) {
        if (info.status == pending) {
          held_[row].emplace_back(where + ": cube", std::move(line));
        } else {
          problem(where, "cube", std::move(line));
        }
      };
      if (!status.empty() && status[cell] != info.status) {
        report(layout::cube_status_path, fmt::format("{} cell {}: {} ({}), but /runs row {} is {}",
                                                     layout::cube_status_path, cell_text(info.cell), status[cell],
                                                     status_name(status[cell]), row, status_name(info.status)));
      }
      for (std::size_t m = 0; m < metric_count; ++m) {
        if (finals[m].empty()) continue;
        // hetsweep-2 keeps the finals of done runs only; hetsweep-1 kept every finished run's.
        const double expected = v2() && info.status != done ? nan : info.finals[m];
        if (!same_value(finals[m][cell], expected)) {
          const auto where = layout::cube_path(science::metric_names[m]);
          report(where, fmt::format("{} cell {}: {}, but /runs row {} ({}) gives {}", where, cell_text(info.cell),
                                    show(finals[m][cell]), row, status_name(info.status), show(expected)));
        }
      }
    }
    if (!every_row_usable) return;  // the cells of unusable rows are unknown
    for (std::size_t cell = 0; cell < cells; ++cell) {
      if (covered[cell]) continue;
      const auto point = grid_->point(static_cast<std::int64_t>(cell));
      problem(layout::runs_path, "missing rows",
              fmt::format("{}: no row holds the grid point {} (key {:016x})", layout::runs_path,
                          cell_text(static_cast<std::int64_t>(cell)), point.key));
    }
  }

  // A row read as pending whose trajectories or cube cells hold results may have been finished by a writer
  // meanwhile (it writes them before the row): read the row again and report only if it is still pending.
  void recheck_pending_rows() {
    if (held_.empty()) return;
    try {
      runs_.refresh();
    } catch (const h5::Error&) {
    }
    std::vector<std::byte> bytes(rows_layout_.row_size());
    for (auto& [row, lines] : held_) {
      const auto readable = runs_reader_->read(row, 1, bytes.data());
      RowResult result;
      std::memcpy(&result, bytes.data() + rows_layout_.identity_size(), sizeof result);
      if (readable[0] && result.status != pending) continue;  // finished while this check ran
      for (auto& [kind, line] : lines) {
        findings_.add(kind, line + " (a pending run holds no results: damage, or the writer stopped mid-flush)");
      }
    }
  }

  // --- recomputing ---------------------------------------------------------------------------------------

  void recompute() {
    if (options_.recompute == 0) return;
    std::vector<std::size_t> chosen;
    for (std::size_t row = 0; row < info_.size(); ++row) {
      if (info_[row].usable && info_[row].status != pending) chosen.push_back(row);
    }
    auto order = [&](std::size_t row) { return spec::run_seed(options_.seed, info_[row].key); };
    std::sort(chosen.begin(), chosen.end(), [&](auto a, auto b) { return order(a) < order(b); });
    if (options_.recompute != recompute_all && static_cast<std::size_t>(options_.recompute) < chosen.size()) {
      chosen.resize(static_cast<std::size_t>(options_.recompute));
    }
    std::sort(chosen.begin(), chosen.end());
    // Block by block, as the rows were checked: one read of /runs and of each trajectory per block.
    const hsize_t columns = steps_.size();
    const hsize_t block = block_rows();
    std::vector<std::byte> rows;
    std::array<std::vector<double>, metric_count> trajectories;
    std::array<std::vector<char>, metric_count> readable_trajectories;
    for (auto next = chosen.begin(); next != chosen.end();) {
      const hsize_t first = *next / block * block;
      const hsize_t count = std::min(block, rows_ - first);
      const auto end = std::lower_bound(next, chosen.end(), first + count);
      rows.assign(count * rows_layout_.row_size(), std::byte{0});
      const auto readable = runs_reader_->read(first, count, rows.data());
      for (std::size_t m = 0; m < metric_count; ++m) {
        trajectories[m].assign(count * columns, nan);
        readable_trajectories[m].assign(count, 0);
        if (trajectory_readers_[m])
          readable_trajectories[m] = trajectory_readers_[m]->read(first, count, trajectories[m].data());
      }
      for (; next != end; ++next) {
        const auto i = *next - first;
        if (!readable[i]) continue;
        const std::byte* bytes = rows.data() + i * rows_layout_.row_size();
        RowResult result;
        std::memcpy(&result, bytes + rows_layout_.identity_size(), sizeof result);
        std::array<const double*, metric_count> stored{};
        for (std::size_t m = 0; m < metric_count; ++m) {
          if (readable_trajectories[m][i]) stored[m] = trajectories[m].data() + i * columns;
        }
        compare_with_recomputed(*next, rows_layout_.decode(bytes), result, stored);
        ++report_.recomputed;
      }
    }
  }

  // `stored`: the row's trajectory values per metric, null where they could not be read.
  void compare_with_recomputed(std::size_t row, const RowIdentity& identity, const RowResult& result,
                               const std::array<const double*, metric_count>& stored) {
    std::int8_t status = failed;
    science::RunResult recomputed;
    try {
      recomputed = science::simulate(identity.params, identity.seed);
      status = recomputed.status == science::RunStatus::done ? done : diverged;
    } catch (const std::exception&) {
    }
    const auto where = fmt::format("{} row {} (recomputed)", layout::runs_path, row);
    auto mismatch = [&](const std::string& dataset, std::string line) {
      problem(dataset, "recompute", std::move(line));
    };
    if (status != result.status) {
      mismatch(layout::runs_path, fmt::format("{}: status {} stored, {} recomputed", where, status_name(result.status),
                                              status_name(status)));
      return;
    }
    if (status == failed) return;
    if (recomputed.steps_done != result.steps_done) {
      mismatch(layout::runs_path,
               fmt::format("{}: steps_done {} stored, {} recomputed", where, result.steps_done, recomputed.steps_done));
    }
    const auto& final_metrics = recomputed.final_metrics;
    for (std::size_t m = 0; m < metric_count; ++m) {
      const double expected = final_metrics.*science::metric_fields[m];
      if (!same_value(result.finals[m], expected)) {
        mismatch(layout::runs_path, fmt::format("{}: final_{} {} stored, {} recomputed", where,
                                                science::metric_names[m], show(result.finals[m]), show(expected)));
      }
    }
    for (std::size_t m = 0; m < metric_count; ++m) {
      if (stored[m] == nullptr) continue;
      const auto path = layout::trajectory_path(science::metric_names[m]);
      std::vector<double> expected(steps_.size(), nan);
      for (const auto& record : recomputed.records) {
        const auto column = std::lower_bound(steps_.begin(), steps_.end(), record.step);
        if (column != steps_.end() && *column == record.step) {
          expected[static_cast<std::size_t>(column - steps_.begin())] = record.metrics.*science::metric_fields[m];
        }
      }
      std::int64_t differing = 0;
      std::size_t first = 0;
      for (std::size_t c = 0; c < steps_.size(); ++c) {
        if (same_value(stored[m][c], expected[c])) continue;
        if (differing++ == 0) first = c;
      }
      if (differing > 0) {
        mismatch(path, fmt::format("{} row {} (recomputed): step {}: {} stored, {} recomputed{}", path, row,
                                   steps_[first], show(stored[m][first]), show(expected[first]),
                                   differing > 1 ? fmt::format(" (and {} more steps)", differing - 1) : ""));
      }
    }
  }

  fs::path path_;
  VerifyOptions options_;
  VerifyReport report_;
  Findings findings_;
  h5::File file_;
  layout::Format format_ = layout::Format::hetsweep_2;
  spec::SweepSpec spec_;
  layout::RowLayout rows_layout_;
  std::optional<spec::Grid> grid_;
  std::optional<layout::CubeIndex> cube_index_;
  h5::Datatype string_type_ = h5::Datatype::variable_string();
  h5::Dataset runs_;
  hsize_t rows_ = 0;
  std::vector<std::int64_t> steps_;
  bool steps_valid_ = false;
  std::vector<PerRun> per_run_;
  std::array<h5::Dataset, metric_count> trajectories_;
  std::array<h5::Dataset, metric_count> cube_;
  h5::Dataset cube_status_;
  std::vector<RowInfo> info_;
  // Kept from the row checks to recomputing, so that a damaged chunk is reported once.
  std::optional<RowReader> runs_reader_;
  std::array<std::optional<RowReader>, metric_count> trajectory_readers_;
  std::map<std::size_t, std::vector<std::pair<std::string, std::string>>> held_;
};

}  // namespace

VerifyReport verify(const fs::path& path, const VerifyOptions& options) { return Verifier(path, options).run(); }

}  // namespace hetsweep::store
