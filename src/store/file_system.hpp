#pragma once
// The POSIX side of keeping a results file safe: one writer at a time, and whole-file changes that become
// visible atomically (built in a temporary file next to the target, synced, then renamed into place).

#include <filesystem>
#include <stdexcept>
#include <string>

namespace hetsweep::store {

// A file-system operation failed: what was attempted, on which path, and the OS's reason.
class FileSystemError : public std::runtime_error {
 public:
  FileSystemError(const std::filesystem::path& path, const std::string& what_failed, int error_number);
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] int error_number() const { return error_number_; }
  [[nodiscard]] const std::string& reason() const { return reason_; }

 private:
  std::filesystem::path path_;
  int error_number_;
  std::string reason_;
};

// An exclusive lock on a file held for this object's lifetime, so that two writers never share a results
// file. HDF5's own lock cannot serve: a SWMR writer drops it so that readers can open the file. This is an
// open-file-description lock (F_OFD_SETLK) on a byte far past any data: it conflicts with another
// WriterLock, in this process or another, but not with HDF5's flock() nor with readers, and the kernel
// releases it when the holder dies.
class WriterLock {
 public:
  WriterLock() = default;
  // Throws FileSystemError when the file cannot be opened for writing; returns an unlocked (invalid) lock
  // when another WriterLock holds it.
  static WriterLock try_acquire(const std::filesystem::path& path);
  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();
  [[nodiscard]] bool held() const { return fd_ >= 0; }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// A new file's name in the target's directory (so that a rename is atomic), removed on destruction unless
// published.
class TemporaryFile {
 public:
  // Creates the (empty) file; throws FileSystemError when the directory does not allow it.
  explicit TemporaryFile(const std::filesystem::path& target);
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Syncs the file's data to disk, then moves it to the target (replacing it, or failing with EEXIST when
  // `replace` is false and the target exists), then syncs the directory so that the new name is durable.
  void publish(bool replace);

 private:
  std::filesystem::path target_;
  std::filesystem::path path_;
  bool published_ = false;
};

// Removes the temporary files (`.NAME.PID-N.tmp` beside `target`) that a process which no longer exists left
// behind: a writer killed while it built a new file. A live process's are left alone; on a file system shared
// between machines a pid names a process of this machine only, so run one writer per output, as the lock
// on the output already demands.
void remove_stale_temporaries(const std::filesystem::path& target);

}  // namespace hetsweep::store
