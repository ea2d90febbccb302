#include "store/file_system.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "store_test_support.hpp"

namespace hetsweep::store {
namespace {

using test_support::ScratchDirectory;

std::string contents(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(WriterLock, RefusesASecondHolderUntilTheFirstLetsGo) {
  ScratchDirectory dir;
  std::ofstream(dir / "a.h5") << "data";
  {
    const auto first = WriterLock::try_acquire(dir / "a.h5");
    EXPECT_TRUE(first.held());
    EXPECT_FALSE(WriterLock::try_acquire(dir / "a.h5").held());
  }
  EXPECT_TRUE(WriterLock::try_acquire(dir / "a.h5").held());
  EXPECT_EQ(contents(dir / "a.h5"), "data");
}

TEST(WriterLock, ThrowsWithThePathWhenTheFileCannotBeOpened) {
  ScratchDirectory dir;
  try {
    WriterLock::try_acquire(dir / "missing.h5");
    FAIL() << "locked a missing file";
  } catch (const FileSystemError& e) {
    EXPECT_EQ(e.path(), dir / "missing.h5");
    EXPECT_EQ(e.error_number(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("missing.h5"), std::string::npos);
  }
}

TEST(TemporaryFile, IsRemovedWhenNotPublished) {
  ScratchDirectory dir;
  std::filesystem::path temporary;
  {
    const TemporaryFile file(dir / "out.h5");
    temporary = file.path();
    EXPECT_EQ(temporary.parent_path(), dir.path());
    EXPECT_TRUE(std::filesystem::exists(temporary));
  }
  EXPECT_FALSE(std::filesystem::exists(temporary));
  EXPECT_FALSE(std::filesystem::exists(dir / "out.h5"));
}

TEST(TemporaryFile, PublishesUnderTheTargetName) {
  ScratchDirectory dir;
  TemporaryFile file(dir / "out.h5");
  std::ofstream(file.path()) << "new";
  file.publish(false);
  EXPECT_EQ(contents(dir / "out.h5"), "new");
  EXPECT_FALSE(std::filesystem::exists(file.path()));
}

TEST(TemporaryFile, RefusesToCreateOverAnExistingTarget) {
  ScratchDirectory dir;
  std::ofstream(dir / "out.h5") << "old";
  TemporaryFile file(dir / "out.h5");
  std::ofstream(file.path()) << "new";
  try {
    file.publish(false);
    FAIL() << "replaced an existing file";
  } catch (const FileSystemError& e) {
    EXPECT_EQ(e.error_number(), EEXIST);
  }
  EXPECT_EQ(contents(dir / "out.h5"), "old");
}

TEST(TemporaryFile, ReplacesTheTargetWhenAsked) {
  ScratchDirectory dir;
  std::ofstream(dir / "out.h5") << "old";
  TemporaryFile file(dir / "out.h5");
  std::ofstream(file.path()) << "new";
  file.publish(true);
  EXPECT_EQ(contents(dir / "out.h5"), "new");
}

TEST(TemporaryFile, ThrowsWhenTheDirectoryIsMissing) {
  ScratchDirectory dir;
  EXPECT_THROW(TemporaryFile(dir / "no" / "out.h5"), FileSystemError);
}

}  // namespace
}  // namespace hetsweep::store

namespace hetsweep::store {
namespace {

TEST(RemoveStaleTemporaries, RemovesOnlyThoseOfProcessesThatAreGone) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("stale-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto target = dir / "out.h5";
  // A pid that no process has: past the kernel's pid limit.
  const auto dead = dir / ".out.h5.4194305-0.tmp";
  const auto alive = dir / fmt::format(".out.h5.{}-3.tmp", ::getpid());
  const auto other_output = dir / ".other.h5.4194305-0.tmp";
  for (const auto& p : {dead, alive, other_output}) std::ofstream(p) << "x";
  remove_stale_temporaries(target);
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(alive));
  EXPECT_TRUE(std::filesystem::exists(other_output));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hetsweep::store
