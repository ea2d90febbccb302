#include "store/row_check.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <vector>

#include "store/h5.hpp"
#include "store/results_file.hpp"
#include "store_test_support.hpp"

namespace hetsweep::store {
namespace {

namespace fs = std::filesystem;
using test_support::fake_outcome;
using test_support::parse;
using test_support::ScratchDirectory;
using test_support::small_spec_text;

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A closed file of the small spec with rows 0 and 1 done.
fs::path sample_file(const ScratchDirectory& dir) {
  const auto path = dir / "out.h5";
  ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume);
  const auto pending = writer.pending();
  writer.write(fake_outcome(pending[0]));
  writer.write(fake_outcome(pending[1]));
  writer.close();
  return path;
}

// Overwrites one numeric field of one /runs row, as a damaged disk or a hand edit would.
template <class Value>
void overwrite_field(const fs::path& path, std::int64_t row, const std::string& field, hid_t mem_type, Value value) {
  auto file = h5::File::open(path, h5::Access::write);
  auto runs = h5::Dataset::open(file, layout::runs_path);
  auto type = h5::Datatype::compound(sizeof(Value));
  type.insert(field, 0, mem_type);
  auto selected = runs.space();
  selected.select_block(std::array{static_cast<hsize_t>(row)}, std::array{hsize_t{1}});
  runs.write(type.id(), h5::Dataspace::simple(std::array{hsize_t{1}}), selected, &value);
  file.close();
}

std::uint64_t read_key(const fs::path& path, std::int64_t row) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto runs = h5::Dataset::open(file, layout::runs_path);
  auto type = h5::Datatype::compound(sizeof(std::uint64_t));
  type.insert("key", 0, H5T_NATIVE_UINT64);
  std::vector<std::uint64_t> keys(runs.dims().at(0));
  runs.read_all(type.id(), keys.data());
  return keys.at(static_cast<std::size_t>(row));
}

struct Damage {
  std::string field;
  std::function<void(const fs::path&)> apply;
  std::string reason;
};

std::vector<Damage> damages() {
  return {
      {"status", [](const fs::path& p) { overwrite_field<std::int8_t>(p, 3, "status", H5T_NATIVE_INT8, 7); },
       "/runs row 3, field status: 7 is not a status"},
      {"run", [](const fs::path& p) { overwrite_field<std::int64_t>(p, 2, "run", H5T_NATIVE_INT64, 5); },
       "/runs row 2, field run: 5 is not the row's index"},
      {"replicate", [](const fs::path& p) { overwrite_field<std::int64_t>(p, 4, "replicate", H5T_NATIVE_INT64, 2); },
       "/runs row 4, field replicate: 2 is outside the spec's replicates 0..1"},
      {"step_size", [](const fs::path& p) { overwrite_field<double>(p, 1, "step_size", H5T_NATIVE_DOUBLE, 0.02); },
       "/runs row 1, field step_size: 0.02 is not a value of the spec's axis"},
      {"dim", [](const fs::path& p) { overwrite_field<std::int64_t>(p, 0, "dim", H5T_NATIVE_INT64, 7); },
       "/runs row 0, field dim: 7 differs from the spec's 6"},
      {"key", [](const fs::path& p) { overwrite_field<std::uint64_t>(p, 6, "key", H5T_NATIVE_UINT64, 12345); },
       "/runs row 6, field key: 0000000000003039 is not the key of the row's parameters"},
      {"seed", [](const fs::path& p) { overwrite_field<std::uint64_t>(p, 5, "seed", H5T_NATIVE_UINT64, 99); },
       "/runs row 5, field seed: 99 is not the seed of the row's key"},
      // Row 1 made a copy of row 0 but for its index: every field agrees with the spec, the key repeats.
      {"duplicate key",
       [](const fs::path& p) {
         overwrite_field<std::int64_t>(p, 1, "replicate", H5T_NATIVE_INT64, 0);
         overwrite_field<std::uint64_t>(p, 1, "key", H5T_NATIVE_UINT64, read_key(p, 0));
         const auto seed = spec::run_seed(parse(small_spec_text).seed, read_key(p, 0));
         overwrite_field<std::uint64_t>(p, 1, "seed", H5T_NATIVE_UINT64, seed);
       },
       "/runs row 1, field key: "},
  };
}

void expect_refusal(const fs::path& path, const std::string& reason, const std::function<void()>& open) {
  try {
    open();
    ADD_FAILURE() << "opened a file whose /runs has a damaged row (" << reason << ")";
  } catch (const ResultsFileError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  }
}

TEST(RowCheck, RefusesToReadAFileWithADamagedRowNamingTheRowAndField) {
  for (const auto& damage : damages()) {
    SCOPED_TRACE(damage.field);
    ScratchDirectory dir;
    const auto path = sample_file(dir);
    damage.apply(path);
    expect_refusal(path, damage.reason, [&] { ResultsReader reader(path); });
  }
}

TEST(RowCheck, RefusesToResumeAFileWithADamagedRowAndLeavesItUntouched) {
  for (const auto& damage : damages()) {
    SCOPED_TRACE(damage.field);
    ScratchDirectory dir;
    const auto path = sample_file(dir);
    damage.apply(path);
    const auto bytes = file_bytes(path);
    expect_refusal(path, damage.reason,
                   [&] { ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume); });
    EXPECT_EQ(file_bytes(path), bytes);
  }
}

TEST(RowCheck, RefusesToGrowAFileWithADamagedRowAndLeavesItUntouched) {
  ScratchDirectory dir;
  const auto path = sample_file(dir);
  overwrite_field<std::int64_t>(path, 0, "dim", H5T_NATIVE_INT64, 7);
  const auto bytes = file_bytes(path);
  auto grown = small_spec_text;
  grown.replace(grown.find("replicates: 2"), 13, "replicates: 3");
  expect_refusal(path, "/runs row 0, field dim: 7 differs from the spec's 6",
                 [&] { ResultsWriter writer(path, parse(grown), OpenMode::create_or_resume); });
  EXPECT_EQ(file_bytes(path), bytes);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(RowCheck, GivesEachRowItsGridPoint) {
  const auto spec = parse(small_spec_text);
  const spec::Grid grid(spec);
  RowCheck check("test.h5", spec);
  // Rows in reverse grid order: the point is the row's own, not its position.
  for (std::int64_t row = 0; row < grid.size(); ++row) {
    const auto point = grid.point(grid.size() - 1 - row);
    const layout::RowIdentity identity{row, point.key, point.params, point.replicate, point.seed};
    EXPECT_EQ(check.point_of(row, identity, layout::pending_result()), grid.size() - 1 - row);
  }
}

TEST(RowCheck, RefusesASecondRowOfTheSameRunNamingTheFirst) {
  const auto spec = parse(small_spec_text);
  const spec::Grid grid(spec);
  const fs::path path = "test.h5";  // the check keeps a reference to it
  RowCheck check(path, spec);
  const auto point = grid.point(3);
  check.point_of(0, {0, point.key, point.params, point.replicate, point.seed}, layout::pending_result());
  try {
    check.point_of(1, {1, point.key, point.params, point.replicate, point.seed}, layout::pending_result());
    FAIL() << "a second row of the same run was accepted";
  } catch (const ResultsFileError& e) {
    EXPECT_NE(e.message().find("/runs row 1, field key"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("is also the key of row 0"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace hetsweep::store
