#include "store/h5.hpp"

#include <fmt/format.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>

namespace hetsweep::store::h5 {
namespace {

// Set up once, before any other HDF5 call: errors are reported through exceptions only (HDF5 must not print
// its own stack to stderr as well), and HDF5 does not clean up at exit. Every handle here closes itself; what
// the exit-time cleanup would find is a file whose flush failed (a full disk), and closing that one again
// crashes HDF5 1.10 (H5F__close_cb).
const bool library_set_up = [] {
  H5dont_atexit();
  H5open();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  return true;
}();

// The name of h5clear's switch (H5F_ACS_CLEAR_STATUS_FLAGS_NAME, private in H5Fprivate.h): a registered file
// access property that makes H5Fopen zero the superblock's status flags instead of refusing the file.
constexpr const char* clear_status_flags_property = "clear_status_flags";

herr_t collect_entry(unsigned /*n*/, const H5E_error2_t* entry, void* stack) {
  static_cast<std::vector<StackEntry>*>(stack)->push_back({entry->maj_num, entry->min_num,
                                                           entry->func_name != nullptr ? entry->func_name : "?",
                                                           entry->desc != nullptr ? entry->desc : ""});
  return 0;
}

// Takes HDF5's error stack of this thread, leaving it empty.
std::vector<StackEntry> take_error_stack() {
  std::vector<StackEntry> entries;
  const hid_t stack = H5Eget_current_stack();
  if (stack < 0) return entries;
  H5Ewalk2(stack, H5E_WALK_DOWNWARD, &collect_entry, &entries);
  H5Eclose_stack(stack);
  return entries;
}

std::string message_text(hid_t message_id) {
  char buffer[256] = {};
  H5E_type_t type{};
  if (H5Eget_msg(message_id, &type, buffer, sizeof buffer) < 0) return {};
  return buffer;
}

std::string describe(const std::string& call, const std::string& context, const std::vector<StackEntry>& stack,
                     const std::string& summary) {
  auto text = fmt::format("{} failed on {}", call, context);
  if (!summary.empty()) text += fmt::format(": {}", summary);
  std::vector<std::string> entries;
  for (const auto& entry : stack) {
    auto line = fmt::format("{}: {}", entry.function, entry.description);
    if (const auto minor = message_text(entry.minor); !minor.empty()) line += fmt::format(" ({})", minor);
    entries.push_back(std::move(line));
  }
  if (!entries.empty()) text += fmt::format("{}{}", summary.empty() ? ": " : " (", fmt::join(entries, "; "));
  if (!entries.empty() && !summary.empty()) text += ")";
  return text;
}

bool has_entry(const std::vector<StackEntry>& stack, hid_t major, hid_t minor) {
  return std::any_of(stack.begin(), stack.end(),
                     [&](const StackEntry& e) { return e.major == major && e.minor == minor; });
}

// The one place that says what a failure means, from the error numbers HDF5 1.10 raises for each (found by
// causing each in tests/store/h5_test.cpp). `os_error`: errno right after the failed call, the only record of
// why a write failed (HDF5 puts it in the text only).
Failure classify(const std::vector<StackEntry>& stack, int os_error) {
  if (has_entry(stack, H5E_FILE, H5E_TRUNCATED)) return Failure::truncated;
  if (has_entry(stack, H5E_FILE, H5E_NOTHDF5)) return Failure::not_hdf5;
  if (std::any_of(stack.begin(), stack.end(), [](const StackEntry& e) { return e.minor == H5E_CANTLOCKFILE; })) {
    return Failure::locked;
  }
  // A chunk: H5Z__filter_fletcher32 raises (storage, read failed) under the pipeline's (filters, read failed).
  if (has_entry(stack, H5E_PLINE, H5E_READERROR) && has_entry(stack, H5E_STORAGE, H5E_READERROR)) {
    return Failure::checksum;
  }
  // Metadata: the cache's (read failed) after all read attempts, when the bytes were read but did not verify
  // (a failed read of the bytes themselves adds a low-level I/O entry).
  if (has_entry(stack, H5E_CACHE, H5E_READERROR) && !has_entry(stack, H5E_IO, H5E_READERROR) &&
      !has_entry(stack, H5E_VFL, H5E_READERROR)) {
    return Failure::checksum;
  }
  if (has_entry(stack, H5E_IO, H5E_WRITEERROR) && (os_error == ENOSPC || os_error == EDQUOT)) {
    return Failure::no_space;
  }
  return Failure::other;
}

[[noreturn]] void throw_error(std::string call, std::string context, std::vector<StackEntry> stack, Failure failure,
                              const std::string& summary) {
  switch (failure) {
    case Failure::not_hdf5:
      throw NotHdf5(std::move(call), std::move(context), std::move(stack), failure, summary);
    case Failure::truncated:
      throw TruncatedFile(std::move(call), std::move(context), std::move(stack), failure, summary);
    case Failure::locked:
      throw LockedFile(std::move(call), std::move(context), std::move(stack), failure, summary);
    case Failure::checksum:
      throw ChecksumFailure(std::move(call), std::move(context), std::move(stack), failure, summary);
    case Failure::no_space:
      throw NoSpace(std::move(call), std::move(context), std::move(stack), failure,
                    summary.empty() ? std::string("no space left on the device") : summary);
    case Failure::other:
      break;
  }
  throw Error(std::move(call), std::move(context), std::move(stack), failure, summary);
}

PropertyList file_access(bool clear_status_flags, std::string_view context) {
  PropertyList fapl(check(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate", context));
  check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "H5Pset_libver_bounds", context);
  // A SWMR reader re-reads metadata whose checksum fails, in case the writer was mid-write, sleeping longer
  // each time: HDF5's default of 100 attempts turns a corrupted file into a wait of many minutes. A few
  // attempts cover a racing writer, whose metadata writes take microseconds.
  constexpr unsigned metadata_read_attempts = 8;
  check(H5Pset_metadata_read_attempts(fapl.id(), metadata_read_attempts), "H5Pset_metadata_read_attempts", context);
  if (clear_status_flags) {
    hbool_t clear = true;
    check(H5Pset(fapl.id(), clear_status_flags_property, &clear), "H5Pset(clear_status_flags)", context);
  }
  return fapl;
}

PropertyList dataset_access(std::size_t chunk_cache_bytes, std::string_view context) {
  PropertyList dapl(check(H5Pcreate(H5P_DATASET_ACCESS), "H5Pcreate", context));
  // A prime number of slots well above the number of chunks that fit, as the HDF5 guide advises.
  constexpr std::size_t slots = 12421;
  check(H5Pset_chunk_cache(dapl.id(), slots, chunk_cache_bytes, 1.0), "H5Pset_chunk_cache", context);
  return dapl;
}

}  // namespace

Error::Error(std::string call, std::string context, std::vector<StackEntry> stack, Failure failure,
             const std::string& summary)
    : std::runtime_error(describe(call, context, stack, summary)),
      call_(std::move(call)),
      context_(std::move(context)),
      stack_(std::move(stack)),
      failure_(failure) {}

bool Error::has(hid_t major, hid_t minor) const { return has_entry(stack_, major, minor); }

void fail(std::string_view call, std::string_view context, const std::string& summary) {
  const int os_error = errno;
  auto stack = take_error_stack();
  const auto failure = classify(stack, os_error);
  throw_error(std::string(call), std::string(context), std::move(stack), failure, summary);
}

// ---------------------------------------------------------------------------------------------------------

Dataspace Dataspace::simple(std::span<const hsize_t> dims, std::span<const hsize_t> maxdims) {
  return Dataspace(
      check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.empty() ? nullptr : maxdims.data()),
            "H5Screate_simple", "a dataspace"));
}

std::vector<hsize_t> Dataspace::dims() const {
  const int rank = check(H5Sget_simple_extent_ndims(id()), "H5Sget_simple_extent_ndims", "a dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(id(), dims.data(), nullptr), "H5Sget_simple_extent_dims", "a dataspace");
  return dims;
}

void Dataspace::select_block(std::span<const hsize_t> start, std::span<const hsize_t> count) {
  check(H5Sselect_hyperslab(id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), "H5Sselect_hyperslab",
        "a dataspace");
}

void Dataspace::add_block(std::span<const hsize_t> start, std::span<const hsize_t> count) {
  check(H5Sselect_hyperslab(id(), H5S_SELECT_OR, start.data(), nullptr, count.data(), nullptr), "H5Sselect_hyperslab",
        "a dataspace");
}

void Dataspace::select_points(std::span<const hsize_t> coords) {
  const auto rank =
      static_cast<std::size_t>(check(H5Sget_simple_extent_ndims(id()), "H5Sget_simple_extent_ndims", "a dataspace"));
  const std::size_t points = rank == 0 ? 0 : coords.size() / rank;
  if (points == 0) {
    check(H5Sselect_none(id()), "H5Sselect_none", "a dataspace");
    return;
  }
  check(H5Sselect_elements(id(), H5S_SELECT_SET, points, coords.data()), "H5Sselect_elements", "a dataspace");
}

// ---------------------------------------------------------------------------------------------------------

Datatype Datatype::fixed_string(std::size_t size) {
  Datatype type(check(H5Tcopy(H5T_C_S1), "H5Tcopy", "a string type"));
  check(H5Tset_size(type.id(), size), "H5Tset_size", "a string type");
  check(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), "H5Tset_strpad", "a string type");
  return type;
}

Datatype Datatype::variable_string() {
  Datatype type(check(H5Tcopy(H5T_C_S1), "H5Tcopy", "a string type"));
  check(H5Tset_size(type.id(), H5T_VARIABLE), "H5Tset_size", "a string type");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset", "a string type");
  return type;
}

Datatype Datatype::char_array(std::size_t size) {
  const auto character = fixed_string(1);
  const std::array<hsize_t, 1> dims{size};
  return Datatype(check(H5Tarray_create2(character.id(), 1, dims.data()), "H5Tarray_create2", "a char array type"));
}

Datatype Datatype::int8_enum(std::span<const std::string_view> names) {
  Datatype type(check(H5Tenum_create(H5T_NATIVE_INT8), "H5Tenum_create", "an enum type"));
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto value = static_cast<std::int8_t>(i);
    check(H5Tenum_insert(type.id(), std::string(names[i]).c_str(), &value), "H5Tenum_insert", names[i]);
  }
  return type;
}

Datatype Datatype::compound(std::size_t size) {
  return Datatype(check(H5Tcreate(H5T_COMPOUND, size), "H5Tcreate", "a compound type"));
}

void Datatype::insert(const std::string& name, std::size_t offset, hid_t member_type) {
  check(H5Tinsert(id(), name.c_str(), offset, member_type), "H5Tinsert", name);
}

Datatype Datatype::packed() const {
  Datatype copy(check(H5Tcopy(id()), "H5Tcopy", "a compound type"));
  check(H5Tpack(copy.id()), "H5Tpack", "a compound type");
  return copy;
}

std::size_t Datatype::size() const {
  const std::size_t size = H5Tget_size(id());
  if (size == 0) fail("H5Tget_size", "a datatype");
  return size;
}

bool Datatype::has_member(std::string_view name) const {
  if (check(H5Tget_class(id()), "H5Tget_class", "a datatype") != H5T_COMPOUND) return false;
  const int members = check(H5Tget_nmembers(id()), "H5Tget_nmembers", "a compound type");
  for (int i = 0; i < members; ++i) {
    char* member = H5Tget_member_name(id(), static_cast<unsigned>(i));
    if (member == nullptr) fail("H5Tget_member_name", "a compound type");
    const bool same = name == member;
    H5free_memory(member);
    if (same) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------

File File::create(const std::filesystem::path& path) {
  const auto name = path.string();
  const auto fapl = file_access(false, name);
  return File(check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()), "H5Fcreate", name), name);
}

File File::open(const std::filesystem::path& path, Access access, bool recover_after_crash) {
  const auto name = path.string();
  const auto fapl = file_access(recover_after_crash, name);
  unsigned flags = H5F_ACC_RDONLY;
  switch (access) {
    case Access::read:
      flags = H5F_ACC_RDONLY;
      break;
    case Access::read_swmr:
      flags = H5F_ACC_RDONLY | H5F_ACC_SWMR_READ;
      break;
    case Access::write_swmr:
      flags = H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE;
      break;
    case Access::write:
      flags = H5F_ACC_RDWR;
      break;
  }
  File file(check(H5Fopen(name.c_str(), flags, fapl.id()), "H5Fopen", name), name);
  if (recover_after_crash) check(H5Fincrement_filesize(file.id(), 0), "H5Fincrement_filesize", name);
  return file;
}

bool File::is_hdf5(const std::filesystem::path& path) {
  const auto name = path.string();
  return check(H5Fis_hdf5(name.c_str()), "H5Fis_hdf5", name) > 0;
}

std::string File::where(std::string_view object) const { return fmt::format("{}:{}", name_, object); }

void File::flush() { check(H5Fflush(id(), H5F_SCOPE_LOCAL), "H5Fflush", name_); }

void File::close() { Handle::close(name_); }

// ---------------------------------------------------------------------------------------------------------

Group create_group(const File& file, const std::string& path) {
  return Group(check(H5Gcreate2(file.id(), path.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2",
                     file.where(path)));
}

Group open_group(const File& file, const std::string& path) {
  return Group(check(H5Gopen2(file.id(), path.c_str(), H5P_DEFAULT), "H5Gopen2", file.where(path)));
}

bool exists(const File& file, const std::string& path) {
  return check(H5Lexists(file.id(), path.c_str(), H5P_DEFAULT), "H5Lexists", file.where(path)) > 0;
}

void unlink(const File& file, const std::string& path) {
  check(H5Ldelete(file.id(), path.c_str(), H5P_DEFAULT), "H5Ldelete", file.where(path));
}

void hard_link(const File& file, const std::string& target, const std::string& link) {
  check(H5Lcreate_hard(file.id(), target.c_str(), file.id(), link.c_str(), H5P_DEFAULT, H5P_DEFAULT), "H5Lcreate_hard",
        file.where(link));
}

void commit_datatype(const File& file, const std::string& path, const Datatype& type) {
  check(H5Tcommit2(file.id(), path.c_str(), type.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "H5Tcommit2",
        file.where(path));
}

// ---------------------------------------------------------------------------------------------------------

Dataset Dataset::create(const File& file, const std::string& path, hid_t type, const Dataspace& space,
                        const DatasetLayout& layout) {
  const auto where = file.where(path);
  PropertyList dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate", where));
  if (!layout.chunk.empty()) {
    check(H5Pset_chunk(dcpl.id(), static_cast<int>(layout.chunk.size()), layout.chunk.data()), "H5Pset_chunk", where);
    if (layout.fletcher32) check(H5Pset_fletcher32(dcpl.id()), "H5Pset_fletcher32", where);
  }
  if (layout.fill) {
    check(H5Pset_fill_value(dcpl.id(), H5T_NATIVE_DOUBLE, &*layout.fill), "H5Pset_fill_value", where);
  }
  if (layout.allocate_early) {
    check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time", where);
  }
  const auto dapl = dataset_access(layout.chunk_cache_bytes, where);
  // Intermediate groups are created as needed.
  PropertyList lcpl(check(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate", where));
  check(H5Pset_create_intermediate_group(lcpl.id(), 1), "H5Pset_create_intermediate_group", where);
  return Dataset(check(H5Dcreate2(file.id(), path.c_str(), type, space.id(), lcpl.id(), dcpl.id(), dapl.id()),
                       "H5Dcreate2", where),
                 where);
}

Dataset Dataset::open(const File& file, const std::string& path, std::size_t chunk_cache_bytes) {
  const auto where = file.where(path);
  const auto dapl = dataset_access(chunk_cache_bytes, where);
  return Dataset(check(H5Dopen2(file.id(), path.c_str(), dapl.id()), "H5Dopen2", where), where);
}

Dataspace Dataset::space() const { return Dataspace(check(H5Dget_space(id()), "H5Dget_space", where_)); }

std::vector<hsize_t> Dataset::dims() const { return space().dims(); }

Datatype Dataset::type() const { return Datatype(check(H5Dget_type(id()), "H5Dget_type", where_)); }

void Dataset::set_extent(std::span<const hsize_t> dims) {
  check(H5Dset_extent(id(), dims.data()), "H5Dset_extent", where_);
}

void Dataset::write(hid_t mem_type, const Dataspace& mem, const Dataspace& file, const void* data,
                    std::size_t conversion_buffer_bytes) {
  PropertyList transfer;
  if (conversion_buffer_bytes > 0) {
    transfer = PropertyList(check(H5Pcreate(H5P_DATASET_XFER), "H5Pcreate", where_));
    check(H5Pset_buffer(transfer.id(), conversion_buffer_bytes, nullptr, nullptr), "H5Pset_buffer", where_);
  }
  check(H5Dwrite(id(), mem_type, mem.id(), file.id(), transfer.valid() ? transfer.id() : H5P_DEFAULT, data), "H5Dwrite",
        where_);
}

void Dataset::write_all(hid_t mem_type, const void* data) {
  check(H5Dwrite(id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "H5Dwrite", where_);
}

void Dataset::read(hid_t mem_type, const Dataspace& mem, const Dataspace& file, void* data) const {
  if (H5Dread(id(), mem_type, mem.id(), file.id(), H5P_DEFAULT, data) < 0) fail_read(mem_type, &file);
}

void Dataset::read_all(hid_t mem_type, void* data) const {
  if (H5Dread(id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) fail_read(mem_type, nullptr);
}

void Dataset::fail_read(hid_t mem_type, const Dataspace* file_selection) const {
  try {
    fail("H5Dread", where_);
  } catch (const ChecksumFailure& e) {
    // HDF5 does not say which chunk failed: read each band of chunk rows in the selection alone to find them.
    PropertyList create(check(H5Dget_create_plist(id()), "H5Dget_create_plist", where_));
    const auto whole = space();
    const auto dims = whole.dims();
    if (H5Pget_layout(create.id()) != H5D_CHUNKED || dims.empty() || H5Tdetect_class(mem_type, H5T_VLEN) != 0 ||
        H5Tis_variable_str(mem_type) != 0) {
      throw;
    }
    std::vector<hsize_t> chunk(dims.size());
    check(H5Pget_chunk(create.id(), static_cast<int>(chunk.size()), chunk.data()), "H5Pget_chunk", where_);
    const hid_t selection = file_selection != nullptr ? file_selection->id() : whole.id();
    std::vector<hsize_t> low(dims.size());
    std::vector<hsize_t> high(dims.size());
    check(H5Sget_select_bounds(selection, low.data(), high.data()), "H5Sget_select_bounds", where_);
    const std::size_t value_bytes = H5Tget_size(mem_type);
    std::vector<std::string> failing;
    std::vector<std::byte> scratch;
    for (hsize_t band = low[0] / chunk[0] * chunk[0]; band <= high[0]; band += chunk[0]) {
      Dataspace part(check(H5Scopy(selection), "H5Scopy", where_));
      std::vector<hsize_t> start(dims.size(), 0);
      std::vector<hsize_t> count = dims;
      start[0] = band;
      count[0] = std::min(chunk[0], dims[0] - band);
      check(H5Sselect_hyperslab(part.id(), H5S_SELECT_AND, start.data(), nullptr, count.data(), nullptr),
            "H5Sselect_hyperslab", where_);
      const auto points = check(H5Sget_select_npoints(part.id()), "H5Sget_select_npoints", where_);
      if (points == 0) continue;
      const auto memory = Dataspace::simple(std::array{static_cast<hsize_t>(points)});
      scratch.resize(static_cast<std::size_t>(points) * value_bytes);
      if (H5Dread(id(), mem_type, memory.id(), part.id(), H5P_DEFAULT, scratch.data()) >= 0) continue;
      const auto stack = take_error_stack();
      if (classify(stack, 0) == Failure::checksum) {
        failing.push_back(fmt::format("rows {} to {}", band, band + count[0] - 1));
      }
    }
    if (failing.empty()) throw;
    throw ChecksumFailure(
        e.call(), e.context(), e.stack(), Failure::checksum,
        fmt::format("{} (a chunk each) fail their checksum: the file is damaged there", fmt::join(failing, ", ")));
  }
}

std::vector<std::string> Dataset::read_strings() const {
  const auto type = Datatype::variable_string();
  const auto n = dims().at(0);
  std::vector<char*> pointers(n, nullptr);
  if (n > 0) read_all(type.id(), pointers.data());
  std::vector<std::string> values;
  values.reserve(n);
  for (char* text : pointers) values.emplace_back(text != nullptr ? text : "");
  if (n > 0) {
    const auto memory = Dataspace::simple(std::array<hsize_t, 1>{n});
    check(H5Dvlen_reclaim(type.id(), memory.id(), H5P_DEFAULT, pointers.data()), "H5Dvlen_reclaim", where_);
  }
  return values;
}

void Dataset::flush() { check(H5Dflush(id()), "H5Dflush", where_); }

void Dataset::refresh() { check(H5Drefresh(id()), "H5Drefresh", where_); }

void Dataset::make_scale(const std::string& name) { check(H5DSset_scale(id(), name.c_str()), "H5DSset_scale", where_); }

void Dataset::attach_scale(const Dataset& scale, unsigned dim) {
  check(H5DSattach_scale(id(), scale.id(), dim), "H5DSattach_scale",
        fmt::format("{} (scale {})", where_, scale.where_));
}

// ---------------------------------------------------------------------------------------------------------

void write_string_attribute(const File& file, const std::string& object, const std::string& name,
                            const std::string& value) {
  const auto where = fmt::format("{} attribute {}", file.where(object), name);
  const auto type = Datatype::variable_string();
  if (check(H5Aexists_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT), "H5Aexists_by_name", where) > 0) {
    check(H5Adelete_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT), "H5Adelete_by_name", where);
  }
  Dataspace scalar(check(H5Screate(H5S_SCALAR), "H5Screate", where));
  Attribute attribute(check(H5Acreate_by_name(file.id(), object.c_str(), name.c_str(), type.id(), scalar.id(),
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            "H5Acreate_by_name", where));
  const char* text = value.c_str();
  check(H5Awrite(attribute.id(), type.id(), &text), "H5Awrite", where);
}

void write_int8_attribute(const File& file, const std::string& object, const std::string& name,
                          std::span<const std::int8_t> values) {
  const auto where = fmt::format("{} attribute {}", file.where(object), name);
  if (check(H5Aexists_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT), "H5Aexists_by_name", where) > 0) {
    check(H5Adelete_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT), "H5Adelete_by_name", where);
  }
  const auto space = Dataspace::simple(std::array<hsize_t, 1>{values.size()});
  Attribute attribute(check(H5Acreate_by_name(file.id(), object.c_str(), name.c_str(), H5T_STD_I8LE, space.id(),
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            "H5Acreate_by_name", where));
  check(H5Awrite(attribute.id(), H5T_NATIVE_INT8, values.data()), "H5Awrite", where);
}

void write_double_attribute(const File& file, const std::string& object, const std::string& name, double value) {
  const auto where = fmt::format("{} attribute {}", file.where(object), name);
  if (check(H5Aexists_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT), "H5Aexists_by_name", where) > 0) {
    check(H5Adelete_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT), "H5Adelete_by_name", where);
  }
  Dataspace scalar(check(H5Screate(H5S_SCALAR), "H5Screate", where));
  Attribute attribute(check(H5Acreate_by_name(file.id(), object.c_str(), name.c_str(), H5T_IEEE_F64LE, scalar.id(),
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            "H5Acreate_by_name", where));
  check(H5Awrite(attribute.id(), H5T_NATIVE_DOUBLE, &value), "H5Awrite", where);
}

std::optional<std::string> read_string_attribute(const File& file, const std::string& object, const std::string& name) {
  const auto where = fmt::format("{} attribute {}", file.where(object), name);
  if (check(H5Aexists_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT), "H5Aexists_by_name", where) == 0) {
    return std::nullopt;
  }
  Attribute attribute(check(H5Aopen_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                            "H5Aopen_by_name", where));
  Datatype stored(check(H5Aget_type(attribute.id()), "H5Aget_type", where));
  if (H5Tget_class(stored.id()) != H5T_STRING) {
    throw Error("H5Aread", where, {}, Failure::other, "the attribute is not a string");
  }
  Dataspace space(check(H5Aget_space(attribute.id()), "H5Aget_space", where));
  if (check(H5Sget_simple_extent_npoints(space.id()), "H5Sget_simple_extent_npoints", where) != 1) {
    throw Error("H5Aread", where, {}, Failure::other, "the attribute is not a single string");
  }
  if (check(H5Tis_variable_str(stored.id()), "H5Tis_variable_str", where) > 0) {
    const auto type = Datatype::variable_string();
    char* text = nullptr;
    check(H5Aread(attribute.id(), type.id(), &text), "H5Aread", where);
    const std::unique_ptr<char, herr_t (*)(void*)> owned(text, &H5free_memory);
    return std::string(text != nullptr ? text : "");
  }
  const std::size_t size = H5Tget_size(stored.id());
  const auto type = Datatype::fixed_string(size);
  std::string text(size, '\0');
  check(H5Aread(attribute.id(), type.id(), text.data()), "H5Aread", where);
  text.resize(text.find('\0') == std::string::npos ? size : text.find('\0'));
  return text;
}

Dataset create_string_dataset(const File& file, const std::string& path, const std::vector<std::string>& values) {
  const auto type = Datatype::variable_string();
  const std::vector<hsize_t> dims{values.size()};
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& v : values) pointers.push_back(v.c_str());
  auto dataset = Dataset::create(file, path, type.id(), Dataspace::simple(dims));
  dataset.write_all(type.id(), pointers.data());
  return dataset;
}

}  // namespace hetsweep::store::h5
