// Opening an existing results file: HDF5's refusals and the stored spec as ResultsFileErrors that say what to
// do, and the lock that keeps a second writer out.
#include <fmt/format.h>

#include "store/results_file_parts.hpp"
#include "store/row_check.hpp"

namespace hetsweep::store {

namespace fs = std::filesystem;

ResultsFileError::ResultsFileError(const fs::path& path, const std::string& message, bool replaceable)
    : std::runtime_error(fmt::format("{}: {}", path.string(), message)),
      path_(path),
      message_(message),
      replaceable_(replaceable) {}

namespace parts {

h5::File open_existing(const fs::path& path, h5::Access access, bool recover_after_crash) {
  bool hdf5 = false;
  try {
    hdf5 = h5::File::is_hdf5(path);
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be read: {}", e.what()));
  }
  if (!hdf5) {
    throw ResultsFileError(path, "is not an HDF5 file, so not a hetsweep results file");
  }
  try {
    return h5::File::open(path, access, recover_after_crash);
  } catch (const h5::TruncatedFile& e) {
    throw ResultsFileError(path, fmt::format("is truncated (shorter than its HDF5 superblock says), e.g. an incomplete "
                                             "copy; restore the whole file ({})",
                                             e.what()));
  } catch (const h5::LockedFile& e) {
    throw ResultsFileError(path, fmt::format("is locked by another process (a reader that opened it before "
                                             "this writer, or a non-SWMR writer); close it and retry ({})",
                                             e.what()));
  } catch (const h5::NotHdf5&) {
    throw ResultsFileError(path, "is not an HDF5 file, so not a hetsweep results file");
  } catch (const h5::ChecksumFailure& e) {
    throw ResultsFileError(path, fmt::format("is damaged: {}", e.what()));
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be opened as an HDF5 file: {}", e.what()));
  }
}

layout::Format stored_format(const fs::path& path, const h5::File& file) {
  const auto format = h5::read_string_attribute(file, "/", "format");
  if (format && *format == layout::format_v2_name) return layout::Format::hetsweep_2;
  if (format && *format == layout::format_v1_name) return layout::Format::hetsweep_1;
  throw ResultsFileError(path,
                         fmt::format("is not a hetsweep results file (its `format` attribute is {}, not {})",
                                     format ? fmt::format("\"{}\"", *format) : std::string("missing"), format_name));
}

spec::SweepSpec stored_spec(const fs::path& path, const h5::File& file) {
  stored_format(path, file);
  const auto text = h5::read_string_attribute(file, "/", "spec");
  if (!text) throw ResultsFileError(path, "has no `spec` attribute: it is damaged");
  spec::SweepSpec spec;
  try {
    spec = spec::parse_spec(*text, fmt::format("{} (stored spec)", path.string()));
  } catch (const spec::SpecError& e) {
    throw ResultsFileError(path, fmt::format("holds a spec this version cannot parse: {}", e.what()));
  }
  if (auto name = h5::read_string_attribute(file, "/", "name")) spec.name = std::move(*name);
  return spec;
}

StoredSweep read_stored(const fs::path& path) {
  // Read-only: what a killed writer left is recovered in memory only, the file is untouched.
  auto file = open_existing(path, h5::Access::read, true);
  if (stored_format(path, file) == layout::Format::hetsweep_1) {
    throw ResultsFileError(path,
                           "is a hetsweep-1 file; convert it with `hetsweep merge NEW.h5 OLD.h5` (writes hetsweep-2), "
                           "then resume NEW.h5");
  }
  try {
    StoredSweep stored{stored_spec(path, file), {}, {}};
    RowCheck check(path, stored.spec);
    {
      const auto runs = h5::Dataset::open(file, layout::runs_path);
      for_each_row(runs, layout::RowLayout::of(layout::Format::hetsweep_2, runs),
                   [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
                     check.point_of(row, identity, result);
                     stored.keys.push_back(identity.key);
                   });
    }
    stored.steps = read_steps(h5::Dataset::open(file, layout::steps_path));
    file.close();
    return stored;
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("is damaged: {}", e.what()));
  }
}

fs::path resolve_output(const fs::path& path) {
  // Linux gives up after 40 links; so does this.
  constexpr int max_links = 40;
  fs::path resolved = path;
  for (int links = 0; fs::is_symlink(fs::symlink_status(resolved)); ++links) {
    if (links == max_links) {
      throw fs::filesystem_error("cannot follow the output's links", path,
                                 std::make_error_code(std::errc::too_many_symbolic_link_levels));
    }
    const auto target = fs::read_symlink(resolved);
    resolved = target.is_absolute() ? target : directory_of(resolved) / target;
  }
  // The directories on the way may be links too: name the file by its real directory, where the temporary
  // file that replaces it must be made.
  return resolved == path ? path : fs::weakly_canonical(resolved);
}

void check_replaceable(const fs::path& path) {
  if (fs::is_regular_file(path) && fs::file_size(path) == 0) return;
  try {
    auto file = open_existing(path, h5::Access::read, true);
    stored_format(path, file);
  } catch (const ResultsFileError& e) {
    throw ResultsFileError(path, fmt::format("{}; --restart replaces only a hetsweep results file or an empty "
                                             "file: remove this one yourself if it is to go, or choose another "
                                             "output path",
                                             e.message()));
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be read ({}); --restart replaces only a hetsweep results file "
                                             "or an empty file",
                                             e.what()));
  }
}

ResultsFileError another_writer(const fs::path& path) {
  return {path,
          "is being written by another hetsweep process; wait for it to finish, or stop it, before writing "
          "this file"};
}

WriterLock lock_for_writing(const fs::path& path) {
  WriterLock lock;
  try {
    lock = WriterLock::try_acquire(path);
  } catch (const FileSystemError& e) {
    throw ResultsFileError(path, fmt::format("cannot be opened for writing: {}", e.reason()));
  }
  if (!lock.held()) throw another_writer(path);
  return lock;
}

}  // namespace parts
}  // namespace hetsweep::store
