#include "store/h5.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5_hl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace hetsweep::store::h5 {
namespace {

using store::test_support::ScratchDirectory;

TEST(H5Error, CarriesTheCallTheFileAndHdf5sStackWhenOpeningFails) {
  ScratchDirectory dir;
  const auto missing = dir / "missing.h5";
  try {
    File::open(missing, Access::read);
    FAIL() << "opening a missing file succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.call(), "H5Fopen");
    EXPECT_EQ(e.context(), missing.string());
    ASSERT_FALSE(e.stack().empty());
    EXPECT_TRUE(e.has(H5E_FILE, H5E_CANTOPENFILE));
    EXPECT_EQ(e.failure(), Failure::other);
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos);
  }
}

TEST(H5Error, IsNotPrintedByHdf5Itself) {
  ScratchDirectory dir;
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(File::open(dir / "missing.h5", Access::read), Error);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(H5Error, LeavesNoStackBehindForTheNextFailure) {
  ScratchDirectory dir;
  EXPECT_THROW(File::open(dir / "first.h5", Access::read), Error);
  try {
    File::open(dir / "second.h5", Access::read);
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("first.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("second.h5"), std::string::npos) << e.what();
  }
}

TEST(Check, ReturnsTheResultWhenItIsNotNegative) {
  EXPECT_EQ(check(hid_t{42}, "call", "context"), 42);
  EXPECT_EQ(check(herr_t{0}, "call", "context"), 0);
}

TEST(Handle, ClosesItsIdentifierWhenDestroyed) {
  hid_t id = H5I_INVALID_HID;
  {
    const auto space = Dataspace::simple(std::array<hsize_t, 1>{3});
    id = space.id();
    EXPECT_GT(check(H5Iis_valid(id), "H5Iis_valid", "test"), 0);
  }
  EXPECT_EQ(check(H5Iis_valid(id), "H5Iis_valid", "test"), 0);
}

TEST(Handle, MovesOwnershipWithoutClosing) {
  auto first = Dataspace::simple(std::array<hsize_t, 1>{3});
  const hid_t id = first.id();
  Dataspace second = std::move(first);
  EXPECT_FALSE(first.valid());
  EXPECT_EQ(second.id(), id);
  EXPECT_GT(check(H5Iis_valid(id), "H5Iis_valid", "test"), 0);
}

TEST(File, RoundTripsStringAttributesOfAnyLength) {
  ScratchDirectory dir;
  const std::string long_text(100000, 'x');
  {
    auto file = File::create(dir / "a.h5");
    write_string_attribute(file, "/", "short", "hetsweep-1");
    write_string_attribute(file, "/", "long", long_text);
    write_string_attribute(file, "/", "short", "replaced");
    file.close();
  }
  auto file = File::open(dir / "a.h5", Access::read);
  EXPECT_EQ(read_string_attribute(file, "/", "short"), "replaced");
  EXPECT_EQ(read_string_attribute(file, "/", "long"), long_text);
  EXPECT_EQ(read_string_attribute(file, "/", "absent"), std::nullopt);
}

TEST(File, ReadsFixedLengthStringAttributes) {
  ScratchDirectory dir;
  {
    auto file = File::create(dir / "a.h5");
    const auto type = Datatype::fixed_string(16);
    const Dataspace scalar(check(H5Screate(H5S_SCALAR), "H5Screate", "test"));
    const Attribute attribute(
        check(H5Acreate2(file.id(), "format", type.id(), scalar.id(), H5P_DEFAULT, H5P_DEFAULT), "H5Acreate2", "test"));
    const char text[16] = "hetsweep-1";
    check(H5Awrite(attribute.id(), type.id(), text), "H5Awrite", "test");
  }
  auto file = File::open(dir / "a.h5", Access::read);
  EXPECT_EQ(read_string_attribute(file, "/", "format"), "hetsweep-1");
}

TEST(File, IsHdf5TellsHdf5FilesFromOthers) {
  ScratchDirectory dir;
  File::create(dir / "a.h5").close();
  std::ofstream(dir / "b.txt") << "not hdf5\n";
  EXPECT_TRUE(File::is_hdf5(dir / "a.h5"));
  EXPECT_FALSE(File::is_hdf5(dir / "b.txt"));
}

TEST(Dataset, WritesAndReadsBlocksAndPoints) {
  ScratchDirectory dir;
  auto file = File::create(dir / "a.h5");
  DatasetLayout layout;
  layout.chunk = {2, 2};
  layout.fill = std::nan("");
  auto values = Dataset::create(
      file, "/group/values", H5T_IEEE_F64LE,
      Dataspace::simple(std::array<hsize_t, 2>{3, 4}, std::array<hsize_t, 2>{H5S_UNLIMITED, H5S_UNLIMITED}), layout);
  auto selection = values.space();
  selection.select_block(std::array<hsize_t, 2>{0, 0}, std::array<hsize_t, 2>{1, 4});
  selection.add_block(std::array<hsize_t, 2>{2, 0}, std::array<hsize_t, 2>{1, 4});
  const std::array<double, 8> rows{1, 2, 3, 4, 9, 10, 11, 12};
  values.write(H5T_NATIVE_DOUBLE, Dataspace::simple(std::array<hsize_t, 1>{8}), selection, rows.data());
  selection.select_points(std::array<hsize_t, 2>{1, 3});
  const double point = 8;
  values.write(H5T_NATIVE_DOUBLE, Dataspace::simple(std::array<hsize_t, 1>{1}), selection, &point);
  values.set_extent(std::array<hsize_t, 2>{4, 4});

  std::array<double, 16> all{};
  values.read_all(H5T_NATIVE_DOUBLE, all.data());
  EXPECT_EQ(values.dims(), (std::vector<hsize_t>{4, 4}));
  EXPECT_EQ(all[0], 1);
  EXPECT_EQ(all[3], 4);
  EXPECT_TRUE(std::isnan(all[4]));
  EXPECT_EQ(all[7], 8);
  EXPECT_EQ(all[8], 9);
  EXPECT_EQ(all[11], 12);
  for (std::size_t i = 12; i < 16; ++i) EXPECT_TRUE(std::isnan(all[i])) << i;
}

TEST(Dataset, AttachesDimensionScales) {
  ScratchDirectory dir;
  auto file = File::create(dir / "a.h5");
  auto axis = create_string_dataset(file, "/axis", {"hetero", "pooled"});
  axis.make_scale("algorithm");
  auto values = Dataset::create(file, "/values", H5T_IEEE_F64LE, Dataspace::simple(std::array<hsize_t, 1>{2}));
  values.attach_scale(axis, 0);
  EXPECT_GT(check(H5DSis_scale(axis.id()), "H5DSis_scale", "test"), 0);
  EXPECT_GT(check(H5DSis_attached(values.id(), axis.id(), 0), "H5DSis_attached", "test"), 0);
}

TEST(Dataset, ChunkedDataFailsItsChecksumNamingTheRowsOfTheChunkOnceAByteOfItIsFlipped) {
  ScratchDirectory dir;
  const auto path = dir / "a.h5";
  std::array<double, 64> data{};
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = 1000.0 + static_cast<double>(i);
  {
    auto file = File::create(path);
    DatasetLayout layout;
    layout.chunk = {16};
    Dataset::create(file, "/values", H5T_IEEE_F64LE, Dataspace::simple(std::array<hsize_t, 1>{64}), layout)
        .write_all(H5T_NATIVE_DOUBLE, data.data());
    file.close();
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&data[40]), sizeof(double)));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] = static_cast<char>(bytes[at + 3] ^ 0x10);  // 1040 becomes another number
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  const auto file = File::open(path, Access::read);
  const auto values = Dataset::open(file, "/values");
  try {
    values.read_all(H5T_NATIVE_DOUBLE, data.data());
    FAIL() << "read a chunk whose data changed";
  } catch (const ChecksumFailure& e) {
    EXPECT_EQ(e.failure(), Failure::checksum);
    EXPECT_TRUE(e.has(H5E_STORAGE, H5E_READERROR)) << e.what();
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string() + ":/values: rows 32 to 47 (a chunk each) fail their checksum"),
              std::string::npos)
        << message;
  }
  // The other chunks still read.
  auto first_rows = values.space();
  first_rows.select_block(std::array<hsize_t, 1>{0}, std::array<hsize_t, 1>{32});
  std::array<double, 32> head{};
  values.read(H5T_NATIVE_DOUBLE, Dataspace::simple(std::array<hsize_t, 1>{32}), first_rows, head.data());
  EXPECT_EQ(head[31], 1031.0);
}

// A results-sized file whose end is missing, as an interrupted copy leaves it.
TEST(File, OpeningATruncatedFileThrowsTruncatedFile) {
  ScratchDirectory dir;
  const auto path = dir / "a.h5";
  {
    auto file = File::create(path);
    std::vector<double> values(4096, 1.0);
    Dataset::create(file, "/values", H5T_IEEE_F64LE, Dataspace::simple(std::array<hsize_t, 1>{values.size()}))
        .write_all(H5T_NATIVE_DOUBLE, values.data());
    file.close();
  }
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    File::open(path, Access::read);
    FAIL() << "opened a truncated file";
  } catch (const TruncatedFile& e) {
    EXPECT_TRUE(e.has(H5E_FILE, H5E_TRUNCATED)) << e.what();
  }
}

TEST(File, OpeningATextFileThrowsNotHdf5) {
  ScratchDirectory dir;
  std::ofstream(dir / "notes.h5") << "not HDF5 at all, but long enough to hold a superblock's worth of bytes\n";
  EXPECT_THROW(File::open(dir / "notes.h5", Access::read), NotHdf5);
}

// HDF5's file lock is flock(); another open file description holding it makes HDF5 refuse the file.
TEST(File, OpeningAFileWhoseLockIsHeldThrowsLockedFile) {
  ScratchDirectory dir;
  const auto path = dir / "a.h5";
  File::create(path).close();
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_THROW(File::open(path, Access::write), LockedFile);
  EXPECT_THROW(File::open(path, Access::read), LockedFile);
  ::close(fd);
  File::open(path, Access::write).close();
}

// A file system that fills up under a write, on a small tmpfs (root only; skipped elsewhere).
TEST(File, WritingOnAFullFileSystemThrowsNoSpace) {
  ScratchDirectory dir;
  const auto disk = dir / "disk";
  std::filesystem::create_directory(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here";
  std::string error;
  try {
    auto file = File::create(disk / "a.h5");
    std::vector<double> values(1 << 16, 1.0);  // 512 KiB
    DatasetLayout layout;
    layout.allocate_early = true;
    layout.fill = 0.0;
    auto dataset = Dataset::create(file, "/values", H5T_IEEE_F64LE,
                                   Dataspace::simple(std::array<hsize_t, 1>{values.size()}), layout);
    dataset.write_all(H5T_NATIVE_DOUBLE, values.data());
    file.flush();
    error = "no error";
  } catch (const NoSpace& e) {
    EXPECT_EQ(e.failure(), Failure::no_space);
    EXPECT_NE(std::string(e.what()).find("no space left on the device"), std::string::npos) << e.what();
  } catch (const Error& e) {
    error = e.what();
  }
  ::umount(disk.c_str());
  EXPECT_EQ(error, "") << "not classified as a full file system";
}

TEST(Datatype, CharArrayIsAnArrayOfOneByteStrings) {
  const auto type = Datatype::char_array(9);
  EXPECT_EQ(H5Tget_class(type.id()), H5T_ARRAY);
  EXPECT_EQ(type.size(), 9U);
  const Datatype character(check(H5Tget_super(type.id()), "H5Tget_super", "test"));
  EXPECT_EQ(H5Tget_class(character.id()), H5T_STRING);
  EXPECT_EQ(character.size(), 1U);
  EXPECT_EQ(H5Tget_strpad(character.id()), H5T_STR_NULLPAD);
}

TEST(Group, LinksAndUnlinks) {
  ScratchDirectory dir;
  auto file = File::create(dir / "a.h5");
  create_group(file, "/g");
  Dataset::create(file, "/g/d", H5T_STD_I64LE, Dataspace::simple(std::array<hsize_t, 1>{1}));
  hard_link(file, "/g/d", "/other");
  EXPECT_TRUE(exists(file, "/other"));
  unlink(file, "/g");
  EXPECT_FALSE(exists(file, "/g"));
  EXPECT_TRUE(exists(file, "/other"));
  EXPECT_THROW(open_group(file, "/g"), Error);
}

// A SWMR writer killed before closing leaves status flags that make HDF5 refuse to open the file for writing;
// clear_status_flags is what lets a new writer take it over.
TEST(File, ClearStatusFlagsOpensAFileWhoseWriterWasKilled) {
  ScratchDirectory dir;
  const auto path = dir / "a.h5";
  File::create(path).close();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto file = File::open(path, Access::write_swmr);
    file.flush();
    raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  try {
    File::open(path, Access::write);
    FAIL() << "HDF5 opened a file a killed writer left for writing";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("file is already open for write"), std::string::npos) << e.what();
  }
  const auto before = std::filesystem::last_write_time(path);
  File::open(path, Access::read, true).close();  // read-only: clears in memory, writes nothing
  EXPECT_EQ(std::filesystem::last_write_time(path), before);
  File::open(path, Access::write, true).close();
  File::open(path, Access::write).close();  // the flags are gone for good
}

// A SWMR writer killed after flushing one dataset, before flushing the file, leaves that dataset's chunk
// index pointing past the end-of-allocation the superblock records; recovery must still read it.
TEST(File, RecoverAfterCrashReadsWhatAKilledWriterFlushedDatasetByDataset) {
  ScratchDirectory dir;
  const auto path = dir / "a.h5";
  {
    auto file = File::create(path);
    DatasetLayout layout;
    layout.chunk = {4};
    Dataset::create(file, "/values", H5T_IEEE_F64LE,
                    Dataspace::simple(std::array<hsize_t, 1>{64}, std::array<hsize_t, 1>{H5S_UNLIMITED}), layout);
    file.close();
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto file = File::open(path, Access::write_swmr);
    auto values = Dataset::open(file, "/values");
    std::array<double, 64> data{};
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<double>(i);
    values.write_all(H5T_NATIVE_DOUBLE, data.data());
    values.flush();
    raise(SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  const auto size = std::filesystem::file_size(path);
  auto file = File::open(path, Access::read, true);
  haddr_t end_of_allocation = 0;
  check(H5Fget_eoa(file.id(), &end_of_allocation), "H5Fget_eoa", "test");
  EXPECT_EQ(end_of_allocation, size);
  std::array<double, 64> data{};
  Dataset::open(file, "/values").read_all(H5T_NATIVE_DOUBLE, data.data());
  EXPECT_EQ(data[0], 0.0);
  EXPECT_EQ(data[63], 63.0);
  file.close();
  EXPECT_EQ(std::filesystem::file_size(path), size);  // read-only recovery wrote nothing
}

}  // namespace
}  // namespace hetsweep::store::h5
