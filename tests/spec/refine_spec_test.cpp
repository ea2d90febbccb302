#include "spec/refine_spec.hpp"
#include "spec/resume_policy.hpp"

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hetsweep::spec {
namespace {

using ::testing::HasSubstr;

// A grid of a real, a choice and an integer axis (lines 1-4), then `refine:` on line 5 and `block` after it,
// so the block's lines are 6, 7, ...
std::string spec_with(const std::string& block, const std::string& heterogeneity = "[1, 2, 3]") {
  return "grid:\n  heterogeneity: " + heterogeneity + "\n  algorithm: [hetero, pooled]\n  dim: [4, 6]\nrefine:" + block;
}

const std::string complete_block =
    "\n  axis: heterogeneity\n  metric: spurious_signal\n  threshold: 0.05\n  tolerance: 0.02\n";

struct Refusal {
  int line;
  int column;
  std::string key;
  std::string reason_part;
};

void expect_refused(const std::string& text, const Refusal& expected) {
  SCOPED_TRACE("spec:\n" + text);
  try {
    parse_spec(text, "t.yaml");
    ADD_FAILURE() << "the spec was accepted";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.line(), expected.line) << e.what();
    EXPECT_EQ(e.column(), expected.column) << e.what();
    EXPECT_EQ(e.key(), expected.key) << e.what();
    EXPECT_THAT(e.reason(), HasSubstr(expected.reason_part));
  }
}

TEST(ParseRefine, ReadsTheBlockWithDivergedAsAboveByDefault) {
  const auto spec = parse_spec(spec_with(complete_block), "t.yaml");
  ASSERT_TRUE(spec.refine.has_value());
  EXPECT_EQ(*spec.refine, (Refine{"heterogeneity", "spurious_signal", 0.05, 0.02, Refine::Diverged::above}));
}

TEST(ParseRefine, ReadsEveryDivergedAsChoiceAndFlowStyle) {
  for (const auto& [name, value] :
       {std::pair{"above", Refine::Diverged::above}, std::pair{"below", Refine::Diverged::below},
        std::pair{"skip", Refine::Diverged::skip}}) {
    const auto spec = parse_spec(spec_with(std::string(" {axis: dim, metric: loss, threshold: -1, tolerance: 1e-3, "
                                                       "diverged_as: ") +
                                           name + "}\n"),
                                 "t.yaml");
    ASSERT_TRUE(spec.refine.has_value());
    EXPECT_EQ(*spec.refine, (Refine{"dim", "loss", -1.0, 1e-3, value}));
  }
}

TEST(ParseRefine, ReadsTheExampleFile) {
  const auto spec = load_spec(std::filesystem::path(HETSWEEP_SPEC_TEST_DATA) / "refine.yaml");
  ASSERT_TRUE(spec.refine.has_value());
  EXPECT_EQ(*spec.refine, (Refine{"heterogeneity", "spurious_signal", 0.05, 0.02, Refine::Diverged::above}));
}

TEST(ParseRefine, IsAbsentWithoutTheBlock) {
  EXPECT_EQ(parse_spec("grid:\n  heterogeneity: [1, 2]\n", "t.yaml").refine, std::nullopt);
}

TEST(ParseRefine, RefusesUnknownKeysWithASuggestion) {
  expect_refused(spec_with("\n  axis: heterogeneity\n  tolerence: 0.02\n"),
                 {7, 3, "refine.tolerence", "unknown key 'tolerence'; did you mean 'tolerance'?"});
  expect_refused("refin: {}\n", {1, 1, "refin", "unknown key 'refin'; did you mean 'refine'?"});
}

TEST(ParseRefine, RefusesDuplicateKeys) {
  expect_refused(spec_with(complete_block + "  metric: loss\n"),
                 {10, 3, "refine.metric", "duplicate key (first at line 7)"});
}

TEST(ParseRefine, RefusesAMissingKeyAtTheBlocksKey) {
  expect_refused(spec_with("\n  axis: heterogeneity\n  metric: loss\n  threshold: 1\n"),
                 {5, 1, "refine", "'tolerance' is missing (refine needs axis, metric, threshold, tolerance)"});
}

TEST(ParseRefine, RefusesABlockThatIsNotAMap) {
  expect_refused(spec_with(" 3\n"), {5, 9, "refine", "expected a map with axis, metric, threshold, tolerance"});
  expect_refused(spec_with("\n"), {5, 1, "refine", "got nothing"});
}

TEST(ParseRefine, RefusesAnAxisThatIsNotOnTheGrid) {
  expect_refused(spec_with("\n  axis: noise\n  metric: loss\n  threshold: 1\n  tolerance: 1\n"),
                 {6, 9, "refine.axis", "noise is not a grid axis (the grid's axes: heterogeneity, algorithm, dim)"});
  expect_refused(spec_with("\n  axis: heterogenity\n  metric: loss\n  threshold: 1\n  tolerance: 1\n"),
                 {6, 9, "refine.axis", "heterogenity is not a grid axis; did you mean 'heterogeneity'?"});
  expect_refused(spec_with("\n  axis: [heterogeneity]\n  metric: loss\n  threshold: 1\n  tolerance: 1\n"),
                 {6, 9, "refine.axis", "expected the name of a numeric grid axis, got a list"});
}

TEST(ParseRefine, RefusesAChoiceAxis) {
  expect_refused(spec_with("\n  axis: algorithm\n  metric: loss\n  threshold: 1\n  tolerance: 1\n"),
                 {6, 9, "refine.axis", "algorithm is a choice; refine bisects a numeric axis"});
}

TEST(ParseRefine, RefusesAnAxisOfOneValue) {
  expect_refused(spec_with(complete_block, "[1]"),
                 {6, 9, "refine.axis", "heterogeneity has one value; bisection needs at least two"});
}

TEST(ParseRefine, RefusesAnUnknownMetricWithASuggestion) {
  expect_refused(spec_with("\n  axis: dim\n  metric: spurius_signal\n  threshold: 1\n  tolerance: 1\n"),
                 {7, 11, "refine.metric",
                  "unknown metric 'spurius_signal'; did you mean 'spurious_signal'? (one of "
                  "true_signal, spurious_signal, err_invariant, err_pooled, loss)"});
}

TEST(ParseRefine, RefusesAThresholdThatIsNotAFiniteNumber) {
  const auto with_threshold = [](const std::string& value) {
    return spec_with("\n  axis: dim\n  metric: loss\n  threshold: " + value + "\n  tolerance: 1\n");
  };
  expect_refused(with_threshold(".nan"), {8, 14, "refine.threshold", ".nan is not a number"});
  expect_refused(with_threshold("-.inf"), {8, 14, "refine.threshold", "-.inf is not finite"});
  expect_refused(with_threshold("1e999"), {8, 14, "refine.threshold", "1e999 is outside the range of a double"});
  expect_refused(with_threshold("\"0.05\""), {8, 14, "refine.threshold", "expected a number, got the string \"0.05\""});
  expect_refused(with_threshold("low"), {8, 14, "refine.threshold", "expected a number, got 'low'"});
  expect_refused(with_threshold("--1"), {8, 14, "refine.threshold", "expected a number, got '--1'"});
  expect_refused(with_threshold(""), {8, 3, "refine.threshold", "expected a number, got nothing"});
}

TEST(ParseRefine, RefusesAToleranceThatIsNotPositiveAndFinite) {
  const auto with_tolerance = [](const std::string& value) {
    return spec_with("\n  axis: dim\n  metric: loss\n  threshold: 1\n  tolerance: " + value + "\n");
  };
  expect_refused(with_tolerance("0"), {9, 14, "refine.tolerance", "0 is not a bracket width: expected a number > 0"});
  expect_refused(with_tolerance("-0.5"), {9, 14, "refine.tolerance", "expected a number > 0"});
  expect_refused(with_tolerance(".inf"), {9, 14, "refine.tolerance", ".inf is not finite"});
}

TEST(ParseRefine, RefusesAnUnknownDivergedAsWithASuggestion) {
  expect_refused(
      spec_with(complete_block + "  diverged_as: abov\n"),
      {10, 16, "refine.diverged_as", "unknown choice 'abov'; did you mean 'above'? (one of above, below, skip)"});
}

SweepSpec spec_of(const std::string& text) { return parse_spec(text, "t.yaml"); }

TEST(RefineConflict, AcceptsTheSameBlockWithOtherAxesGrown) {
  const auto stored = spec_of(spec_with(complete_block));
  auto grown = spec_with(complete_block);
  grown.replace(grown.find("[4, 6]"), 6, "[4, 6, 8]");
  EXPECT_EQ(resume_conflict(stored, spec_of(grown)), std::nullopt);
}

TEST(RefineConflict, RefusesAChangedAddedOrDroppedBlock) {
  const auto stored = spec_of(spec_with(complete_block));
  auto changed = spec_with(complete_block);
  changed.replace(changed.find("0.02"), 4, "0.01");
  EXPECT_EQ(resume_conflict(stored, spec_of(changed)),
            "refine differs: the file has {axis heterogeneity, metric spurious_signal, threshold 0.05, tolerance 0.02, "
            "diverged_as above}, the spec has {axis heterogeneity, metric spurious_signal, threshold 0.05, tolerance "
            "0.01, diverged_as above}");
  const auto plain = spec_of("grid:\n  heterogeneity: [1, 2, 3]\n  algorithm: [hetero, pooled]\n  dim: [4, 6]\n");
  EXPECT_THAT(resume_conflict(plain, stored).value_or(""), HasSubstr("refine differs: the file has none"));
  EXPECT_THAT(resume_conflict(stored, plain).value_or(""), HasSubstr("the spec has none"));
}

TEST(RefineConflict, RefusesNewValuesOnTheRefinedAxisAndOtherReplicates) {
  const auto stored = spec_of(spec_with(complete_block));
  EXPECT_EQ(resume_conflict(stored, spec_of(spec_with(complete_block, "[1, 2, 3, 4]"))),
            "the refined axis heterogeneity must keep its values: refinement points depend on them");
  EXPECT_EQ(resume_conflict(stored, spec_of(spec_with(complete_block, "[3, 1, 2]"))), std::nullopt);
  EXPECT_EQ(resume_conflict(stored, spec_of(spec_with(complete_block) + "replicates: 2\n")),
            "replicates must stay 1 with refine: refinement points depend on the replicate means");
}

}  // namespace
}  // namespace hetsweep::spec
