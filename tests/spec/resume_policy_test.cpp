#include "spec/resume_policy.hpp"

#include <filesystem>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hetsweep::spec {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::filesystem::path data_dir = HETSWEEP_SPEC_TEST_DATA;

SweepSpec spec_of(std::string_view text) { return parse_spec(text, "t.yaml"); }

TEST(Fingerprint, IsSixteenHexDigits) {
  const auto digest = fingerprint(spec_of("seed: 1\n"));
  EXPECT_EQ(digest.size(), 16u);
  EXPECT_EQ(digest.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Fingerprint, IgnoresAxisValuesAxisOrderReplicatesAndHowValuesAreWritten) {
  const auto digest = fingerprint(spec_of("grid:\n  noise: [0, 1]\n  dim: [20, 30]\n"));
  EXPECT_EQ(fingerprint(spec_of("grid:\n  dim: [20, 30, 40]\n  noise: [0, 1, 2]\nreplicates: 5\n")), digest);
  EXPECT_EQ(fingerprint(spec_of("fixed: {step_size: 0.050}\ngrid:\n  dim: [20]\n  noise: [0]\n")), digest);
}

TEST(Fingerprint, ChangesWithNameSeedFixedValuesAndAxisNames) {
  const auto digest = fingerprint(spec_of("name: a\nseed: 1\nfixed: {noise: 0.5}\ngrid:\n  dim: [20]\n"));
  EXPECT_NE(fingerprint(spec_of("name: b\nseed: 1\nfixed: {noise: 0.5}\ngrid:\n  dim: [20]\n")), digest);
  EXPECT_NE(fingerprint(spec_of("name: a\nseed: 2\nfixed: {noise: 0.5}\ngrid:\n  dim: [20]\n")), digest);
  EXPECT_NE(fingerprint(spec_of("name: a\nseed: 1\nfixed: {noise: 0.25}\ngrid:\n  dim: [20]\n")), digest);
  EXPECT_NE(fingerprint(spec_of("name: a\nseed: 1\nfixed: {noise: 0.5}\ngrid:\n  width: [20]\n")), digest);
}

TEST(ResumeConflict, AcceptsTheSameSpec) {
  const auto spec = load_spec(data_dir / "fig2-heterogeneity.yaml");
  EXPECT_EQ(resume_conflict(spec, spec), std::nullopt);
}

TEST(ResumeConflict, AcceptsGrownAxesReorderedAxesAndMoreReplicates) {
  const auto stored = spec_of("grid:\n  noise: [0, 1]\n  dim: [20, 30]\nreplicates: 2\n");
  const auto now = spec_of("grid:\n  dim: [40, 30, 20]\n  noise: [0, 0.5, 1]\nreplicates: 3\n");
  EXPECT_EQ(resume_conflict(stored, now), std::nullopt);
  EXPECT_EQ(fingerprint(stored), fingerprint(now));
}

TEST(ResumeConflict, NamesADifferentName) {
  EXPECT_EQ(resume_conflict(spec_of("name: a\n"), spec_of("name: b\n")),
            "name differs: the file has a, the spec has b");
}

TEST(ResumeConflict, NamesADifferentSeed) {
  EXPECT_EQ(resume_conflict(spec_of("seed: 7\n"), spec_of("seed: 8\n")),
            "seed differs: the file has 7, the spec has 8");
}

TEST(ResumeConflict, NamesADifferentFixedValue) {
  EXPECT_EQ(resume_conflict(spec_of("fixed: {step_size: 0.05}\n"), spec_of("fixed: {step_size: 0.1}\n")),
            "fixed step_size differs: the file has 0.05, the spec has 0.1");
  // A default counts as fixed: leaving step_size out means 0.05.
  EXPECT_EQ(resume_conflict(spec_of("seed: 0\n"), spec_of("fixed: {step_size: 0.1}\n")),
            "fixed step_size differs: the file has 0.05, the spec has 0.1");
}

TEST(ResumeConflict, NamesAxisValuesTheSpecDropped) {
  EXPECT_EQ(resume_conflict(spec_of("grid:\n  heterogeneity: [0, 1, 2, 3, 4]\n"),
                            spec_of("grid:\n  heterogeneity: {start: 0, stop: 2, num: 5}\n")),
            "axis heterogeneity lacks 3, 4 which the file holds");
}

TEST(ResumeConflict, ListsTheFirstTenDroppedValuesAndCountsTheRest) {
  EXPECT_EQ(
      resume_conflict(spec_of("grid:\n  steps: {start: 1, stop: 20, num: 20}\n"), spec_of("grid:\n  steps: [1]\n")),
      "axis steps lacks 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 9 more which the file holds");
}

TEST(ResumeConflict, NamesFewerReplicates) {
  EXPECT_EQ(resume_conflict(spec_of("replicates: 4\n"), spec_of("replicates: 2\n")),
            "replicates 2 is fewer than the file's 4");
}

TEST(ResumeConflict, NamesDifferentAxes) {
  EXPECT_EQ(
      resume_conflict(spec_of("grid:\n  noise: [0]\n  dim: [20]\n"), spec_of("grid:\n  noise: [0]\n  width: [0]\n")),
      "the file sweeps [noise, dim] but the spec sweeps [noise, width]");
}

TEST(ResumeConflict, MessagesAreOneLine) {
  const auto message = resume_conflict(spec_of("grid:\n  noise: [0.1, 0.2]\n"), spec_of("grid:\n  noise: [0.3]\n"));
  ASSERT_TRUE(message.has_value());
  EXPECT_THAT(*message, Not(HasSubstr("\n")));
  EXPECT_EQ(*message, "axis noise lacks 0.1, 0.2 which the file holds");
}

}  // namespace
}  // namespace hetsweep::spec
