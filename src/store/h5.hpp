#pragma once
// The one place that talks to the HDF5 C API. Handles own one hid_t and close it with the matching H5*close;
// every call is checked, and a failed call becomes an h5::Error that carries the call, what it was applied to
// (file and object path) and HDF5's error stack, and whose type says what the failure means (truncated file,
// lock held, checksum...), classified by the stack's error numbers. HDF5's automatic error printing is off.

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hetsweep::store::h5 {

// One entry of HDF5's error stack: the error numbers (major: the library part, e.g. H5E_FILE; minor: what went
// wrong, e.g. H5E_TRUNCATED) and where and why HDF5 raised it.
struct StackEntry {
  hid_t major = H5I_INVALID_HID;
  hid_t minor = H5I_INVALID_HID;
  std::string function;
  std::string description;
};

// What a failure means to a caller, decided from the stack's error numbers (never from its text) by the one
// classification in h5.cpp.
enum class Failure {
  other,
  not_hdf5,   // no HDF5 signature
  truncated,  // shorter than its superblock says
  locked,     // another process holds HDF5's file lock
  checksum,   // a chunk's Fletcher32 checksum or a metadata checksum does not match: the bytes changed
  no_space,   // a write found the file system full (or over quota)
};

class Error : public std::runtime_error {
 public:
  // `summary`: what the failure means, put before HDF5's stack in the message (may be empty).
  Error(std::string call, std::string context, std::vector<StackEntry> stack, Failure failure = Failure::other,
        const std::string& summary = {});
  // The failed C function, e.g. "H5Dwrite".
  [[nodiscard]] const std::string& call() const { return call_; }
  // What it was applied to, e.g. "results.h5:/runs".
  [[nodiscard]] const std::string& context() const { return context_; }
  // HDF5's error stack, outermost (the API function) first.
  [[nodiscard]] const std::vector<StackEntry>& stack() const { return stack_; }
  [[nodiscard]] Failure failure() const { return failure_; }
  // Whether an entry of the stack has these error numbers.
  [[nodiscard]] bool has(hid_t major, hid_t minor) const;

 private:
  std::string call_;
  std::string context_;
  std::vector<StackEntry> stack_;
  Failure failure_;
};

// The failures callers act on, one type each (fail() throws the type of its classification).
class NotHdf5 : public Error {
 public:
  using Error::Error;
};
class TruncatedFile : public Error {
 public:
  using Error::Error;
};
class LockedFile : public Error {
 public:
  using Error::Error;
};
class ChecksumFailure : public Error {
 public:
  using Error::Error;
};
class NoSpace : public Error {
 public:
  using Error::Error;
};

// Throws the Error for `call` on `context` with HDF5's current error stack (which it empties), of the type its
// classification gives; `summary` as in Error.
[[noreturn]] void fail(std::string_view call, std::string_view context, const std::string& summary = {});

// Returns `result`, or fails when it is negative (HDF5's failure value for hid_t, herr_t, htri_t, hssize_t).
template <class Result>
Result check(Result result, std::string_view call, std::string_view context) {
  if (result < 0) fail(call, context);
  return result;
}

// Owns one identifier; Close is the H5*close that releases it. Closing errors in the destructor are
// ignored (there is nothing left to do with them); close() reports them.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      other.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  [[nodiscard]] hid_t id() const { return id_; }
  [[nodiscard]] bool valid() const { return id_ >= 0; }
  void close(std::string_view context) {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    if (id >= 0) check(Close(id), "H5*close", context);
  }

 private:
  void reset() {
    if (id_ >= 0) Close(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
};

using PropertyList = Handle<H5Pclose>;
using Group = Handle<H5Gclose>;
using Attribute = Handle<H5Aclose>;

// ---------------------------------------------------------------------------------------------------------
// Dataspaces and selections.

class Dataspace : public Handle<H5Sclose> {
 public:
  using Handle::Handle;
  // maxdims empty: fixed size; H5S_UNLIMITED entries make a dimension extensible.
  static Dataspace simple(std::span<const hsize_t> dims, std::span<const hsize_t> maxdims = {});
  [[nodiscard]] std::vector<hsize_t> dims() const;
  // Replaces the selection with the block [start, start + count).
  void select_block(std::span<const hsize_t> start, std::span<const hsize_t> count);
  // Adds the block [start, start + count) to the selection.
  void add_block(std::span<const hsize_t> start, std::span<const hsize_t> count);
  // Replaces the selection with `coords.size() / rank` points, their coordinates back to back.
  void select_points(std::span<const hsize_t> coords);
};

// ---------------------------------------------------------------------------------------------------------
// Datatypes. Predefined types (H5T_NATIVE_DOUBLE, ...) are used as plain hid_t; these are the built ones.

class Datatype : public Handle<H5Tclose> {
 public:
  using Handle::Handle;
  // A null-padded string of exactly `size` bytes.
  static Datatype fixed_string(std::size_t size);
  // A variable-length UTF-8 string (char* in memory).
  static Datatype variable_string();
  // An array of `size` one-byte strings, NUL-padded: the char array netCDF readers take for a fixed-length
  // string (they misread an HDF5 fixed-length string inside a compound).
  static Datatype char_array(std::size_t size);
  // An enumeration over int8 with `names[i]` = i.
  static Datatype int8_enum(std::span<const std::string_view> names);
  // An empty compound of `size` bytes; add members with insert().
  static Datatype compound(std::size_t size);
  void insert(const std::string& name, std::size_t offset, hid_t member_type);
  // The same compound with its members moved together (no padding), for the file.
  [[nodiscard]] Datatype packed() const;
  [[nodiscard]] std::size_t size() const;
  // Whether this compound type has a member named `name` (false for other types).
  [[nodiscard]] bool has_member(std::string_view name) const;
};

// ---------------------------------------------------------------------------------------------------------
// Files.

enum class Access {
  read,        // read-only; fails on a file a writer holds or left unclosed
  read_swmr,   // read-only, concurrently with a SWMR writer
  write_swmr,  // read-write in SWMR mode: readers may open it meanwhile
  write,       // read-write, single process
};

class File : public Handle<H5Fclose> {
 public:
  File() = default;
  // Creates (truncating) a file with the latest format, as SWMR needs.
  static File create(const std::filesystem::path& path);
  // recover_after_crash: take over from a writer that was killed before closing (the caller must know it is
  // dead), as `h5clear -s --increment=0` would: ignore and reset the superblock's "open for writing" flags, and
  // move the end-of-allocation up to the end of the file, past what the dead writer wrote after its last
  // complete flush (data a SWMR writer's H5Dflush put there, which its index already points to). A read-only
  // open does both in memory only and leaves the file untouched.
  static File open(const std::filesystem::path& path, Access access, bool recover_after_crash = false);
  // Whether `path` holds an HDF5 signature.
  static bool is_hdf5(const std::filesystem::path& path);

  [[nodiscard]] const std::string& name() const { return name_; }
  // "file:/object" for error messages.
  [[nodiscard]] std::string where(std::string_view object) const;
  void flush();
  void close();

 private:
  File(hid_t id, std::string name) : Handle(id), name_(std::move(name)) {}
  std::string name_;
};

// ---------------------------------------------------------------------------------------------------------
// Groups, links and named datatypes. `path` is absolute or relative to the root.

Group create_group(const File& file, const std::string& path);
Group open_group(const File& file, const std::string& path);
bool exists(const File& file, const std::string& path);
// Removes the link `path`; the object goes when its last link does.
void unlink(const File& file, const std::string& path);
// A second name `link` for the object at `target`.
void hard_link(const File& file, const std::string& target, const std::string& link);
// Stores `type` in the file under `path` (a committed datatype); datasets created with `type` afterwards refer
// to it by name.
void commit_datatype(const File& file, const std::string& path, const Datatype& type);

// ---------------------------------------------------------------------------------------------------------
// Datasets.

struct DatasetLayout {
  std::vector<hsize_t> chunk;               // empty: contiguous
  bool fletcher32 = true;                   // chunked only: a checksum per chunk, so a damaged chunk fails to read
  std::optional<double> fill;               // for float64 datasets
  bool allocate_early = false;              // write the fill value at creation (contiguous under SWMR)
  std::size_t chunk_cache_bytes = 1 << 20;  // per open dataset
};

class Dataset : public Handle<H5Dclose> {
 public:
  Dataset() = default;
  static Dataset create(const File& file, const std::string& path, hid_t type, const Dataspace& space,
                        const DatasetLayout& layout = {});
  static Dataset open(const File& file, const std::string& path, std::size_t chunk_cache_bytes = 1 << 20);

  [[nodiscard]] const std::string& where() const { return where_; }
  [[nodiscard]] Dataspace space() const;
  [[nodiscard]] std::vector<hsize_t> dims() const;
  [[nodiscard]] Datatype type() const;
  void set_extent(std::span<const hsize_t> dims);
  // conversion_buffer_bytes: the size of HDF5's type-conversion buffer, when the types differ (default 1 MiB,
  // allocated and cleared on every call: small batches want less).
  void write(hid_t mem_type, const Dataspace& mem, const Dataspace& file, const void* data,
             std::size_t conversion_buffer_bytes = 0);
  void write_all(hid_t mem_type, const void* data);
  // A chunk whose checksum fails makes these throw ChecksumFailure naming the dataset and the rows of each
  // failing chunk (each chunk of the selection is read again alone to find them).
  void read(hid_t mem_type, const Dataspace& mem, const Dataspace& file, void* data) const;
  void read_all(hid_t mem_type, void* data) const;
  // Every value of a one-dimensional dataset of strings (variable-length).
  [[nodiscard]] std::vector<std::string> read_strings() const;
  // SWMR: make this dataset's data and metadata visible to readers / see the writer's latest.
  void flush();
  void refresh();

  // Dimension scales (H5DS): this dataset becomes the scale named `name`, or gets `scale` on `dim`.
  void make_scale(const std::string& name);
  void attach_scale(const Dataset& scale, unsigned dim);

 private:
  Dataset(hid_t id, std::string where) : Handle(id), where_(std::move(where)) {}
  // Throws the failure of a read of `file_selection` (nullopt: everything); a checksum failure with its rows.
  [[noreturn]] void fail_read(hid_t mem_type, const Dataspace* file_selection) const;
  std::string where_;
};

// ---------------------------------------------------------------------------------------------------------
// Attributes. Strings are written variable-length UTF-8 and read whether variable or fixed length.

void write_string_attribute(const File& file, const std::string& object, const std::string& name,
                            const std::string& value);
// An int8 array attribute (replaced if it exists).
void write_int8_attribute(const File& file, const std::string& object, const std::string& name,
                          std::span<const std::int8_t> values);
// A float64 scalar attribute (replaced if it exists).
void write_double_attribute(const File& file, const std::string& object, const std::string& name, double value);
// nullopt when the object has no attribute `name`.
std::optional<std::string> read_string_attribute(const File& file, const std::string& object, const std::string& name);

// A dataset of strings, written variable-length.
Dataset create_string_dataset(const File& file, const std::string& path, const std::vector<std::string>& values);

}  // namespace hetsweep::store::h5
