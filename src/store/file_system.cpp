#include "store/file_system.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>

namespace hetsweep::store {
namespace {

std::filesystem::path directory_of(const std::filesystem::path& path) {
  const auto parent = path.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

void sync(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw FileSystemError(path, "cannot open to sync", errno);
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0) throw FileSystemError(path, "cannot sync", error);
}

// Far past the end of any results file, so the locked byte never overlaps data anyone reads or writes.
constexpr off_t lock_offset = off_t{1} << 62;

}  // namespace

FileSystemError::FileSystemError(const std::filesystem::path& path, const std::string& what_failed, int error_number)
    : std::runtime_error(fmt::format("{} {}: {}", what_failed, path.string(), std::strerror(error_number))),
      path_(path),
      error_number_(error_number),
      reason_(std::strerror(error_number)) {}

WriterLock WriterLock::try_acquire(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw FileSystemError(path, "cannot open for writing", errno);
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = lock_offset;
  lock.l_len = 1;
  if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) return WriterLock(fd);
  const int error = errno;
  ::close(fd);
  if (error == EAGAIN || error == EACCES) return WriterLock();
  throw FileSystemError(path, "cannot lock", error);
}

WriterLock::WriterLock(WriterLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);
}

TemporaryFile::TemporaryFile(const std::filesystem::path& target) : target_(target) {
  static std::atomic<unsigned> counter{0};
  path_ =
      directory_of(target) / fmt::format(".{}.{}-{}.tmp", target.filename().string(), ::getpid(), counter.fetch_add(1));
  const int fd = ::open(path_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) throw FileSystemError(directory_of(target), "cannot create a file in", errno);
  ::close(fd);
}

TemporaryFile::~TemporaryFile() {
  if (!published_) ::unlink(path_.c_str());
}

void TemporaryFile::publish(bool replace) {
  sync(path_, O_RDONLY);
  if (replace) {
    if (::rename(path_.c_str(), target_.c_str()) != 0) throw FileSystemError(target_, "cannot replace", errno);
  } else {
    // link() refuses an existing target, which rename() would silently replace.
    if (::link(path_.c_str(), target_.c_str()) != 0) throw FileSystemError(target_, "cannot create", errno);
    ::unlink(path_.c_str());
  }
  published_ = true;
  sync(directory_of(target_), O_RDONLY | O_DIRECTORY);
}

void remove_stale_temporaries(const std::filesystem::path& target) {
  const auto prefix = fmt::format(".{}.", target.filename().string());
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory_of(target), error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".tmp")) continue;
    // The name's middle is PID-N.
    const std::string middle = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    const auto dash = middle.find('-');
    pid_t pid = 0;
    const auto [end, parsed] = std::from_chars(middle.data(), middle.data() + dash, pid);
    if (dash == std::string::npos || parsed != std::errc{} || end != middle.data() + dash || pid <= 0) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), error);
  }
}

}  // namespace hetsweep::store
