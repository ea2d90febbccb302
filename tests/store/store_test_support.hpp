#pragma once
// Shared by the store tests: a scratch directory per test, plus the fake sweep of fake_sweep.hpp.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fake_sweep.hpp"
#include "store/h5.hpp"

namespace hetsweep::store::test_support {

// A fresh directory for one test, removed afterwards.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("hetsweep-store-") + info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDirectory() { std::filesystem::remove_all(path_); }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Every value of the dataset `object` of the file at `path`, read as `type` in row-major order.
template <class T>
std::vector<T> read_vector(const std::filesystem::path& path, const std::string& object, hid_t type) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto dataset = h5::Dataset::open(file, object);
  std::size_t n = 1;
  for (auto d : dataset.dims()) n *= d;
  std::vector<T> values(n);
  dataset.read_all(type, values.data());
  return values;
}

}  // namespace hetsweep::store::test_support
