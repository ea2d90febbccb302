#include "spec/sweep_spec.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "science/footprint.hpp"
#include "science/records.hpp"

namespace hetsweep::spec {
namespace {

using ::testing::HasSubstr;

const std::filesystem::path data_dir = HETSWEEP_SPEC_TEST_DATA;

// Where and why a spec is expected to be refused.
struct Refusal {
  int line;
  int column;
  std::string key;
  std::string reason_part;
};

void expect_refused(std::string_view text, const Refusal& expected) {
  SCOPED_TRACE(std::string("spec:\n") + std::string(text));
  try {
    parse_spec(text, "t.yaml");
    ADD_FAILURE() << "the spec was accepted";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.file(), "t.yaml");
    EXPECT_EQ(e.line(), expected.line) << e.what();
    EXPECT_EQ(e.column(), expected.column) << e.what();
    EXPECT_EQ(e.key(), expected.key) << e.what();
    EXPECT_THAT(e.reason(), HasSubstr(expected.reason_part));
  }
}

std::vector<double> reals(const Axis& axis) {
  std::vector<double> values;
  for (const auto& v : axis.values) values.push_back(std::get<double>(v));
  return values;
}

std::vector<std::int64_t> integers(const Axis& axis) {
  std::vector<std::int64_t> values;
  for (const auto& v : axis.values) values.push_back(std::get<std::int64_t>(v));
  return values;
}

// --- the happy path ---

TEST(SweepSpec, ParsesTheExampleSpec) {
  const auto spec = load_spec(data_dir / "fig2-heterogeneity.yaml");
  EXPECT_EQ(spec.name, "fig2-heterogeneity");
  EXPECT_EQ(spec.seed, 7u);
  EXPECT_EQ(spec.replicates, 4);
  EXPECT_EQ(spec.fixed_keys,
            (std::vector<std::string>{"dim", "invariant_rank", "spurious_rank", "steps", "record_every"}));
  ASSERT_EQ(spec.axes.size(), 4u);
  EXPECT_EQ(spec.axes[0].name, "heterogeneity");
  EXPECT_EQ(spec.axes[0].values.size(), 21u);
  EXPECT_EQ(spec.axes[1], (Axis{"step_size", {0.01, 0.05, 0.1}}));
  EXPECT_EQ(spec.axes[2], (Axis{"batch_size", {std::int64_t{80}, std::int64_t{200}, std::int64_t{1000}}}));
  EXPECT_EQ(spec.axes[3], (Axis{"algorithm", {std::string("hetero"), std::string("pooled")}}));
  EXPECT_EQ(spec.base, science::Params{});  // every fixed value equals its default
}

TEST(SweepSpec, KeepsTheTextVerbatim) {
  const std::string text = "seed: 3   # a comment\nfixed: {noise: 0.5}\n";
  EXPECT_EQ(parse_spec(text, "t.yaml").text, text);
}

TEST(SweepSpec, AppliesDefaultsWhenOptionalKeysAreAbsent) {
  const auto spec = parse_spec("# nothing but defaults\nseed: 0\n", "sweeps/quick-look.yaml");
  EXPECT_EQ(spec.name, "quick-look");
  EXPECT_EQ(spec.seed, 0u);
  EXPECT_EQ(spec.replicates, 1);
  EXPECT_TRUE(spec.axes.empty());
  EXPECT_TRUE(spec.fixed_keys.empty());
  EXPECT_EQ(spec.base, science::Params{});
}

TEST(SweepSpec, AcceptsEmptyFixedAndGridSections) {
  const auto spec = parse_spec("fixed:\ngrid: {}\n", "t.yaml");
  EXPECT_TRUE(spec.axes.empty());
  EXPECT_EQ(spec.base, science::Params{});
}

TEST(SweepSpec, AppliesFixedValuesOverTheDefaults) {
  const auto spec = parse_spec("fixed:\n  dim: 30\n  noise: 0.25\n  algorithm: pooled_gd\n", "t.yaml");
  EXPECT_EQ(spec.base.dim, 30);
  EXPECT_EQ(spec.base.noise, 0.25);
  EXPECT_EQ(spec.base.algorithm, science::Algorithm::pooled_gd);
  EXPECT_EQ(spec.fixed_keys, (std::vector<std::string>{"dim", "noise", "algorithm"}));
}

TEST(SweepSpec, ParsesBlockListsQuotedChoicesHexSeedAndIntegerRanges) {
  const auto spec = load_spec(data_dir / "block-style.yaml");
  EXPECT_EQ(spec.name, "width-sweep");
  EXPECT_EQ(spec.seed, 0xdeadbeefu);
  EXPECT_EQ(spec.base.noise, 0.01);
  ASSERT_EQ(spec.axes.size(), 3u);
  EXPECT_EQ(integers(spec.axes[0]), (std::vector<std::int64_t>{4, 8, 12}));
  EXPECT_EQ(integers(spec.axes[1]), (std::vector<std::int64_t>{100, 400, 700, 1000}));
  EXPECT_EQ(spec.axes[2], (Axis{"schedule", {std::string("cyclic"), std::string("random")}}));
}

TEST(SweepSpec, LinspaceEndpointsAreExact) {
  const auto spec = parse_spec("grid:\n  noise: {start: 0.1, stop: 0.7, num: 7}\n", "t.yaml");
  const auto values = reals(spec.axes[0]);
  ASSERT_EQ(values.size(), 7u);
  EXPECT_EQ(values.front(), 0.1);
  EXPECT_EQ(values.back(), 0.7);
}

TEST(SweepSpec, LinspaceInteriorValuesAreCorrectlyRoundedWhenTheyCanBe) {
  const auto values = reals(parse_spec("grid:\n  noise: {start: 0, stop: 1, num: 11}\n", "t.yaml").axes[0]);
  ASSERT_EQ(values.size(), 11u);
  EXPECT_EQ(values[3], 0.3);
  EXPECT_EQ(values[7], 0.7);
}

TEST(SweepSpec, LinspaceRunsDownwardWhenStopIsBelowStart) {
  const auto values = reals(parse_spec("grid:\n  heterogeneity: {start: 2, stop: 0, num: 5}\n", "t.yaml").axes[0]);
  EXPECT_EQ(values, (std::vector<double>{2, 1.5, 1, 0.5, 0}));
}

TEST(SweepSpec, LinspaceNearTheLargestDoubleStaysFinite) {
  // start + stop overflows a double, the midpoint does not.
  const auto values =
      reals(parse_spec("grid:\n  spurious_mean: {start: 1e308, stop: 1.5e308, num: 3}\n", "t.yaml").axes[0]);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_DOUBLE_EQ(values[1], 1.25e308);
}

TEST(SweepSpec, RangeOfOneValueIsItsStart) {
  const auto values = reals(parse_spec("grid:\n  noise: {start: 0.5, stop: 1, num: 1}\n", "t.yaml").axes[0]);
  EXPECT_EQ(values, (std::vector<double>{0.5}));
}

TEST(SweepSpec, IntegerParameterAcceptsIntegralNumbers) {
  const auto spec = parse_spec("fixed: {batch_size: 1e3}\ngrid:\n  steps: [2.0e2, 300]\n", "t.yaml");
  EXPECT_EQ(spec.base.batch_size, 1000);
  EXPECT_EQ(integers(spec.axes[0]), (std::vector<std::int64_t>{200, 300}));
}

TEST(SweepSpec, RealParameterAcceptsIntegers) {
  const auto spec = parse_spec("grid:\n  heterogeneity: [0, 1, 2.5]\n", "t.yaml");
  EXPECT_EQ(reals(spec.axes[0]), (std::vector<double>{0, 1, 2.5}));
}

TEST(SweepSpec, NegativeZeroIsZero) {
  const auto spec = parse_spec("fixed: {spurious_mean: -0.0}\n", "t.yaml");
  EXPECT_FALSE(std::signbit(spec.base.spurious_mean));
}

TEST(SweepSpec, SeedTakesTheWholeUnsignedRange) {
  EXPECT_EQ(parse_spec("seed: 18446744073709551615\n", "t.yaml").seed, 18446744073709551615u);
}

// --- refusals: YAML and structure ---

TEST(SweepSpec, RefusesYamlSyntaxErrorsAtTheirPosition) {
  expect_refused("grid:\n  step_size: [0.1, 0.2\nreplicates: 2\n", {3, 11, "", "end of sequence flow not found"});
}

TEST(SweepSpec, RefusesAnEmptyFileAsAWhole) {
  expect_refused("", {0, 0, "", "empty"});
  expect_refused("# only a comment\n", {0, 0, "", "empty"});
}

TEST(SweepSpec, RefusesATopLevelThatIsNotAMap) {
  expect_refused("- seed\n- grid\n", {1, 1, "", "got a list"});
  expect_refused("\n  just text\n", {2, 3, "", "got 'just text'"});
  expect_refused("\"first line\n\n second line that goes on and on\"\n", {1, 1, "", "got 'first line...'"});
}

TEST(SweepSpec, RefusesASecondDocument) {
  expect_refused("seed: 1\n---\nseed: 2\n", {2, 1, "", "a second one starts here"});
}

TEST(SweepSpec, RefusesAStrayCommaInsteadOfLooping) {
  // yaml-cpp 0.7's LoadAll loops forever on these (its issue #1040), and Load ignores the comma.
  expect_refused(",#", {1, 1, "", "unexpected ','"});
  expect_refused("seed: 1\n...\n,\n", {3, 1, "", "unexpected ',' after the spec"});
  expect_refused("- seed\n,\n", {2, 1, "", "unexpected ','"});
}

TEST(SweepSpec, RefusesUnknownTopLevelKeysWithASuggestion) {
  expect_refused("seed: 1\nreplicate: 3\n", {2, 1, "replicate", "unknown key 'replicate'; did you mean 'replicates'?"});
}

TEST(SweepSpec, RefusesUnknownParametersWithASuggestion) {
  expect_refused("fixed:\n  stepsize: 0.1\n", {2, 3, "fixed.stepsize", "did you mean 'step_size'?"});
  expect_refused("grid:\n  heterogenity: [1, 2]\n", {2, 3, "grid.heterogenity", "did you mean 'heterogeneity'?"});
}

TEST(SweepSpec, OffersNoSuggestionForAFarOffName) {
  SCOPED_TRACE("far-off name");
  try {
    parse_spec("grid:\n  temperature: [1, 2]\n", "t.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.reason(), "unknown parameter 'temperature'");
  }
}

TEST(SweepSpec, RefusesDuplicateKeysInEveryMap) {
  expect_refused("seed: 1\nreplicates: 2\nseed: 2\n", {3, 1, "seed", "duplicate key (first at line 1)"});
  expect_refused("fixed: {dim: 20, dim: 30}\n", {1, 18, "fixed.dim", "duplicate key"});
  expect_refused("grid:\n  noise: [0.1]\n  noise: [0.2]\n", {3, 3, "grid.noise", "duplicate key (first at line 2)"});
  expect_refused("grid:\n  noise: {start: 0, stop: 1, num: 2, num: 3}\n", {2, 38, "grid.noise.num", "duplicate key"});
}

TEST(SweepSpec, RefusesKeysThatAreNotNames) {
  expect_refused("? [a, b]\n: 1\n", {1, 3, "", "a key must be a name, not a list"});
}

TEST(SweepSpec, RefusesSectionsOfTheWrongShape) {
  expect_refused("fixed: [dim, 20]\n", {1, 8, "fixed", "expected a map of parameter: value, got a list"});
  expect_refused("grid: 3\n", {1, 7, "grid", "expected a map"});
}

// --- refusals: values ---

TEST(SweepSpec, RefusesAFractionForAnIntegerParameter) {
  expect_refused("fixed:\n  dim: 1.5\n", {2, 8, "fixed.dim", "1.5 is not an integer"});
  expect_refused("grid:\n  batch_size: [80, 200.5]\n", {2, 20, "grid.batch_size[1]", "200.5 is not an integer"});
}

TEST(SweepSpec, RefusesStringsForNumericParameters) {
  expect_refused("fixed:\n  dim: twenty\n", {2, 8, "fixed.dim", "expected an integer, got the string \"twenty\""});
  expect_refused("fixed:\n  noise: \"0.1\"\n", {2, 10, "fixed.noise", "expected a number, got the string \"0.1\""});
}

TEST(SweepSpec, RefusesBooleansAndNullsWhereAScalarBelongs) {
  expect_refused("fixed:\n  noise: true\n", {2, 10, "fixed.noise", "got the boolean true"});
  expect_refused("fixed:\n  algorithm: False\n", {2, 14, "fixed.algorithm", "got the boolean False"});
  // An empty value is reported at its key: yaml-cpp places it at the next token.
  expect_refused("fixed:\n  noise:\n  dim: 3\n", {2, 3, "fixed.noise", "got null"});
  expect_refused("grid:\n  noise: [0.1, ~]\n", {2, 16, "grid.noise[1]", "got null"});
}

TEST(SweepSpec, RefusesMapsAndListsWhereAScalarBelongs) {
  expect_refused("fixed:\n  dim: {value: 3}\n", {2, 8, "fixed.dim", "expected an integer, got a map"});
  expect_refused("fixed:\n  dim: [3]\n", {2, 8, "fixed.dim", "got a list"});
  expect_refused("grid:\n  noise: [[0.1], 0.2]\n", {2, 11, "grid.noise[0]", "expected a number, got a list"});
  expect_refused("seed: [1]\n", {1, 7, "seed", "got a list"});
  expect_refused("name: {a: b}\n", {1, 7, "name", "expected a name, got a map"});
}

TEST(SweepSpec, RefusesNanAndInfinities) {
  expect_refused("fixed:\n  noise: .nan\n", {2, 10, "fixed.noise", ".nan is not a number"});
  expect_refused("fixed:\n  spurious_mean: -.inf\n", {2, 18, "fixed.spurious_mean", "-.inf is not finite"});
  expect_refused("grid:\n  noise: {start: 0, stop: .Inf, num: 3}\n", {2, 27, "grid.noise.stop", "not finite"});
  expect_refused("fixed:\n  noise: 1e400\n", {2, 10, "fixed.noise", "outside the range of a double"});
}

TEST(SweepSpec, RefusesIntegersBeyond64Bits) {
  expect_refused("fixed:\n  steps: 9223372036854775808\n", {2, 10, "fixed.steps", "does not fit in a 64-bit integer"});
  expect_refused("fixed:\n  steps: 1e19\n", {2, 10, "fixed.steps", "does not fit"});
}

TEST(SweepSpec, RefusesUnknownChoicesWithASuggestion) {
  expect_refused("fixed:\n  algorithm: hetro\n", {2, 14, "fixed.algorithm", "did you mean 'hetero'?"});
  expect_refused("grid:\n  sensing: [gaussian, 1]\n", {2, 23, "grid.sensing[1]", "got the integer 1"});
}

TEST(SweepSpec, RefusesUnsupportedTags) {
  expect_refused("fixed:\n  dim: !!int 5\n", {2, 8, "fixed.dim", "unsupported tag"});
}

TEST(SweepSpec, RefusesBadSeeds) {
  expect_refused("seed: -1\n", {1, 7, "seed", "negative"});
  expect_refused("seed: 18446744073709551616\n", {1, 7, "seed", "does not fit"});
  expect_refused("seed: 2.5\n", {1, 7, "seed", "not an integer"});
  expect_refused("seed: abc\n", {1, 7, "seed", "got the string \"abc\""});
}

TEST(SweepSpec, RefusesBadReplicates) {
  expect_refused("replicates: 0\n", {1, 13, "replicates", "expected an integer >= 1"});
  expect_refused("replicates: 1.5\n", {1, 13, "replicates", "not an integer"});
}

TEST(SweepSpec, RefusesAnEmptyName) { expect_refused("name: ''\n", {1, 7, "name", "got nothing"}); }

TEST(SweepSpec, RefusesFixedValuesOutOfRange) {
  expect_refused("fixed:\n  dim: 0\n", {2, 8, "fixed.dim", "0 is outside the allowed range [1, 1024]"});
  expect_refused("fixed:\n  step_size: 0\n", {2, 14, "fixed.step_size", "outside the allowed range (0, inf]"});
}

TEST(SweepSpec, RefusesEveryAxisValueOutOfRangeAtItsOwnPosition) {
  expect_refused("grid:\n  step_size: [0.1, -0.1, 0.2]\n",
                 {2, 20, "grid.step_size[1]", "is outside the allowed range (0, inf]"});
  expect_refused("grid:\n  batch_size:\n    - 10\n    - 0\n", {4, 7, "grid.batch_size[1]", "outside"});
  expect_refused("grid:\n  noise: {start: -1, stop: 1, num: 3}\n", {2, 18, "grid.noise.start", "outside"});
  expect_refused("grid:\n  dim: {start: 1024, stop: 1025, num: 2}\n",
                 {2, 28, "grid.dim.stop", "1025 is outside the allowed range [1, 1024]"});
}

// --- refusals: axes ---

TEST(SweepSpec, RefusesEmptyAxes) { expect_refused("grid:\n  noise: []\n", {2, 10, "grid.noise", "empty axis"}); }

TEST(SweepSpec, RefusesASingleValueAsAnAxis) {
  expect_refused("grid:\n  noise: 0.1\n", {2, 10, "grid.noise", "a single value belongs under fixed"});
}

TEST(SweepSpec, RefusesDuplicateAxisValuesComparingValues) {
  expect_refused("grid:\n  step_size: [0.1, 0.05, 0.10]\n",
                 {2, 26, "grid.step_size[2]", "0.1 appears twice (also at line 2, column 15)"});
  expect_refused("grid:\n  batch_size: [1000, 1e3]\n", {2, 22, "grid.batch_size[1]", "1000 appears twice"});
  expect_refused("grid:\n  algorithm: [hetero, \"hetero\"]\n", {2, 23, "grid.algorithm[1]", "hetero appears twice"});
}

TEST(SweepSpec, RefusesARangeYieldingTheSameValueTwice) {
  expect_refused("grid:\n  noise: {start: 1, stop: 1, num: 2}\n", {2, 10, "grid.noise", "yields 1 more than once"});
}

TEST(SweepSpec, RefusesRangesWithNumBelowOne) {
  expect_refused("grid:\n  noise: {start: 0, stop: 1, num: 0}\n", {2, 35, "grid.noise.num", "num is 0"});
  expect_refused("grid:\n  noise: {start: 0, stop: 1, num: 2.5}\n", {2, 35, "grid.noise.num", "not an integer"});
}

TEST(SweepSpec, RefusesRangesWithNonNumericEnds) {
  expect_refused("grid:\n  noise: {start: low, stop: 1, num: 2}\n",
                 {2, 18, "grid.noise.start", "got the string \"low\""});
  expect_refused("grid:\n  noise: {start: 0, stop: [1], num: 2}\n", {2, 27, "grid.noise.stop", "got a list"});
}

TEST(SweepSpec, RefusesIncompleteOrMisspelledRanges) {
  expect_refused("grid:\n  noise: {start: 0, stop: 1}\n", {2, 10, "grid.noise", "'num' is missing"});
  expect_refused("grid:\n  noise: {start: 0, stop: 1, nums: 3}\n", {2, 30, "grid.noise.nums", "did you mean 'num'?"});
}

TEST(SweepSpec, RefusesARangeOnAChoiceParameter) {
  expect_refused("grid:\n  algorithm: {start: 0, stop: 1, num: 2}\n", {2, 14, "grid.algorithm", "list the choices"});
}

TEST(SweepSpec, RefusesAnIntegerRangeThatDoesNotYieldIntegers) {
  expect_refused("grid:\n  batch_size: {start: 1, stop: 10, num: 3}\n", {2, 15, "grid.batch_size", "steps by 4.5"});
  expect_refused("grid:\n  batch_size: {start: 1.5, stop: 10, num: 3}\n",
                 {2, 23, "grid.batch_size.start", "not an integer"});
}

TEST(SweepSpec, RefusesAParameterBothFixedAndSwept) {
  // Reported at the grid entry wherever the fixed one is.
  expect_refused("grid:\n  dim: [10, 20]\nfixed:\n  dim: 20\n", {2, 3, "grid.dim", "both fixed (line 4) and swept"});
}

// --- refusals: consistency and size ---

TEST(SweepSpec, RefusesInconsistentFixedValuesAtTheNamedFixedEntry) {
  expect_refused("fixed:\n  spurious_rank: 2\n  dim: 3\n", {2, 3, "fixed.spurious_rank", "exceeds dim = 3"});
}

TEST(SweepSpec, RefusesEveryInconsistentCombinationAtTheNamedAxis) {
  expect_refused("fixed: {dim: 20}\ngrid:\n  spurious_rank: [0, 18, 19]\n",
                 {3, 3, "grid.spurious_rank", "= 21 exceeds dim = 20 (at spurious_rank = 19)"});
  expect_refused("grid:\n  dim: [10, 20]\n  width: [0, 15]\n", {3, 3, "grid.width", "width = 15 exceeds dim = 10"});
}

TEST(SweepSpec, RefusesAnInconsistencyInADefaultAtTheTopOfTheFile) {
  // dim = 3 cannot hold the default ranks 2 + 2; spurious_rank is neither fixed nor swept.
  expect_refused("\ngrid:\n  dim: [20, 3]\n", {1, 1, "spurious_rank", "(at dim = 3)"});
}

TEST(SweepSpec, RefusesAnExactSamplerOverRankOneSensing) {
  expect_refused("fixed: {sampler: exact}\ngrid:\n  sensing: [gaussian, rank_one]\n",
                 {1, 9, "fixed.sampler", "gaussian sensing only"});
}

TEST(SweepSpec, RefusesInconsistentRanksFromAFile) {
  try {
    load_spec(data_dir / "inconsistent-ranks.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.line(), 5);
    EXPECT_EQ(e.column(), 3);
    EXPECT_EQ(e.key(), "grid.spurious_rank");
    EXPECT_THAT(e.reason(), HasSubstr("spurious_rank = 3"));
  }
}

TEST(SweepSpec, RefusesGridsBeyondMaxRuns) {
  expect_refused("seed: 1\ngrid:\n  noise: {start: 0, stop: 1, num: 1000001}\n",
                 {2, 1, "grid", "1000001 noise x 1 replicates = 1000001 runs exceeds the limit of 1000000"});
  expect_refused("replicates: 1000001\n", {1, 1, "replicates", "exceeds the limit"});
}

TEST(SweepSpec, RefusesAGridWhoseSizeOverflows64Bits) {
  try {
    load_spec(data_dir / "too-many-runs.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.line(), 1);
    EXPECT_EQ(e.key(), "grid");
    EXPECT_THAT(e.reason(), HasSubstr("9223372036854775807 or more runs"));
  }
}

TEST(SweepSpec, AcceptsTrajectoriesUpToTheLimit) {
  // 100 runs x (999999 / 1 + 1) records = 1e8 cells: exactly the limit.
  const auto spec = parse_spec("fixed: {steps: 999999, record_every: 1}\nreplicates: 100\n", "t.yaml");
  EXPECT_EQ(spec.replicates, 100);
}

TEST(SweepSpec, RefusesTrajectoriesBeyondTheLimit) {
  expect_refused("fixed: {steps: 1000000, record_every: 1}\nreplicates: 100\n",
                 {2, 1, "replicates", "100000100 trajectory points"});
  // The last step adds a record when steps is not a multiple of record_every: 2 x (49999999 + 2) records.
  expect_refused("fixed: {steps: 99999999, record_every: 2}\nreplicates: 2\n", {2, 1, "replicates", "100000002"});
  expect_refused("fixed: {steps: 1000000000, record_every: 100}\ngrid:\n  noise: [0, 1]\nreplicates: 5\n",
                 {2, 1, "grid", "100000010 trajectory points"});
}

// Sizes that used to pass validation and then failed every run (bad_alloc) or overflowed the record rule.
TEST(SweepSpec, RefusesSizesAtTheInt64ExtremesByTheirRange) {
  expect_refused("fixed: {steps: 4611686018427387904, record_every: 4611686018427387904}\n",
                 {1, 16, "fixed.steps", "4611686018427387904 is outside the allowed range [0, 1000000000]"});
  expect_refused("fixed: {record_every: 9223372036854775807}\n",
                 {1, 23, "fixed.record_every", "outside the allowed range [1, 1000000000]"});
  expect_refused("fixed: {batch_size: 1099511627776}\n", {1, 21, "fixed.batch_size", "outside the allowed range"});
  expect_refused("grid:\n  batch_size: [1000, 9223372036854775807]\n",
                 {2, 22, "grid.batch_size[1]", "9223372036854775807 is outside the allowed range [1, 1000000000]"});
  expect_refused("fixed: {environments: 1000000}\n",
                 {1, 23, "fixed.environments", "outside the allowed range [1, 100000]"});
  expect_refused("fixed: {dim: 4096}\n", {1, 14, "fixed.dim", "4096 is outside the allowed range [1, 1024]"});
  expect_refused("replicates: 9223372036854775807\n", {1, 1, "replicates", "exceeds the limit of 1000000"});
  expect_refused("replicates: 4611686018427387904\ngrid:\n  noise: [0, 1, 2, 3]\n",
                 {2, 1, "grid", "= 9223372036854775807 or more runs exceeds the limit"});
}

TEST(SweepSpec, TrajectoryLimitCountsTheRecordsTheSimulatorKeeps) {
  for (const auto& [steps, every] :
       {std::pair{1000, 10}, std::pair{1001, 10}, std::pair{99999, 1000}, std::pair{2000, 1}}) {
    science::Params params;
    params.steps = steps;
    params.record_every = every;
    const auto records = static_cast<std::int64_t>(science::record_steps(params).size());
    const auto most = max_trajectory_cells / records;  // the most replicates that fit
    const auto spec = [&](std::int64_t replicates) {
      return fmt::format("fixed: {{steps: {}, record_every: {}}}\nreplicates: {}\n", steps, every, replicates);
    };
    EXPECT_NO_THROW(parse_spec(spec(most), "t.yaml")) << steps << " / " << every;
    EXPECT_THROW(parse_spec(spec(most + 1), "t.yaml"), SpecError) << steps << " / " << every;
  }
}

TEST(SweepSpec, CountsTrajectoriesPerCombinationOfStepsAndRecordEvery) {
  // 50 x 101 + 50 x 1000001 = 50005100 cells: within the limit, which 100 runs x the longest run would break.
  EXPECT_NO_THROW(parse_spec("fixed: {record_every: 1}\ngrid:\n  steps: [100, 1000000]\nreplicates: 50\n", "t.yaml"));
  // 50 x (101 + 2 + 1000001 + 1001) = 50055250 cells fits; 100 x the same does not.
  EXPECT_NO_THROW(parse_spec("grid:\n  steps: [100, 1000000]\n  record_every: [1, 1000]\nreplicates: 50\n", "t.yaml"));
  expect_refused("grid:\n  steps: [100, 1000000]\n  record_every: [1, 1000]\nreplicates: 100\n",
                 {1, 1, "grid", "100110500 trajectory points"});
}

// --- memory ---

// dim 1024 with 100000 environments holds 100000 target matrices of 8 MiB each (and the exact sampler's
// weights): far beyond a quarter of any machine this runs on.
TEST(SweepSpec, RefusesARunThatWouldNotFitInMemoryAtTheDominantKey) {
  science::Params params;
  params.dim = 1024;
  params.environments = 100000;
  const auto estimate = science::format_bytes(science::estimate_run_memory(params).bytes);
  expect_refused("fixed:\n  dim: 1024\n  environments: 100000\n",
                 {3, 3, "fixed.environments",
                  fmt::format("one run would need about {} of memory, mostly for the environments; a run may take at "
                              "most {} (a quarter of this machine's memory)",
                              estimate, science::format_bytes(science::run_memory_limit()))});
}

TEST(SweepSpec, ChecksTheMemoryOfEveryCombinationOfTheAxesInvolved) {
  // Only dim 1024 with 100000 environments is too large; the message names the first such combination.
  expect_refused(
      "fixed: {sampler: materialized}\ngrid:\n  dim: [4, 1024]\n  algorithm: [hetero, pooled_gd]\n"
      "  environments: [2, 100000]\n  noise: [0, 1]\n",
      {5, 3, "grid.environments", "(at dim = 1024, algorithm = hetero, environments = 100000)"});
  // The exact sampler's weights grow as K^2: 100000 environments need 149 GiB even at d = 4.
  expect_refused("fixed: {dim: 4}\ngrid:\n  sampler: [materialized, exact]\n  environments: [2, 100000]\n",
                 {4, 3, "grid.environments", "(at sampler = exact, environments = 100000)"});
  EXPECT_NO_THROW(parse_spec("fixed: {dim: 4, sampler: materialized}\ngrid:\n  environments: [2, 100000]\n", "t.yaml"));
}

// --- values given as text (command-line flags) ---

TEST(ParseParameterText, ReadsAsASpecScalarDoes) {
  EXPECT_EQ(parse_parameter_text(*science::find_parameter("batch_size"), "1e3", "--batch-size"),
            science::ParamValue{std::int64_t{1000}});
  EXPECT_EQ(parse_parameter_text(*science::find_parameter("step_size"), "0.05", "--step-size"),
            science::ParamValue{0.05});
  EXPECT_EQ(parse_parameter_text(*science::find_parameter("algorithm"), "pooled", "--algorithm"),
            science::ParamValue{std::string("pooled")});
}

TEST(ParseParameterText, RefusesWithTheSpecsMessages) {
  const auto reason = [](std::string_view name, const std::string& text) {
    try {
      parse_parameter_text(*science::find_parameter(name), text, "--flag");
    } catch (const SpecError& e) {
      EXPECT_EQ(e.file(), "--flag");
      return e.reason();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(reason("step_size", "-0.5"), "-0.5 is outside the allowed range (0, inf]");
  EXPECT_EQ(reason("dim", "4096"), "4096 is outside the allowed range [1, 1024]");
  EXPECT_EQ(reason("dim", "2.5"), "2.5 is not an integer");
  EXPECT_EQ(reason("dim", " 20"), "expected an integer, got the string \" 20\"");
  EXPECT_EQ(reason("noise", ".nan"), ".nan is not a number");
  EXPECT_EQ(reason("noise", "fast"), "expected a number, got the string \"fast\"");
  EXPECT_EQ(reason("noise", "[1, 2]"), "expected a number, got the string \"[1, 2]\"");
  EXPECT_THAT(reason("algorithm", "hetro"), HasSubstr("did you mean 'hetero'?"));
  EXPECT_EQ(reason("batch_size", "9223372036854775808"), "9223372036854775808 does not fit in a 64-bit integer");
}

TEST(ParseSeedText, ReadsTheWholeUnsigned64BitRangeAndNothingElse) {
  EXPECT_EQ(parse_seed_text("0", "--seed"), 0u);
  EXPECT_EQ(parse_seed_text("18446744073709551615", "--seed"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_THROW(parse_seed_text("-1", "--seed"), SpecError);
  EXPECT_THROW(parse_seed_text("18446744073709551616", "--seed"), SpecError);
  EXPECT_THROW(parse_seed_text("seven", "--seed"), SpecError);
  EXPECT_THROW(parse_seed_text("1.5", "--seed"), SpecError);
  EXPECT_THROW(parse_seed_text("", "--seed"), SpecError);
}

// --- load_spec and the error text ---

TEST(SpecError, FormatsFileLineColumnKeyAndReason) {
  try {
    parse_spec("fixed:\n  dim: 0\n", "sweeps/a.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const SpecError& e) {
    EXPECT_STREQ(e.what(), "sweeps/a.yaml:2:8: fixed.dim: 0 is outside the allowed range [1, 1024]");
  }
}

TEST(SpecError, LeavesOutTheLocationForTheWholeFile) {
  EXPECT_STREQ(SpecError("a.yaml", 0, 0, "", "the spec is empty").what(), "a.yaml: the spec is empty");
}

TEST(LoadSpec, NamesTheSpecAfterItsFileByDefault) { EXPECT_EQ(load_spec(data_dir / "minimal.yaml").name, "minimal"); }

TEST(LoadSpec, RefusesAMissingFileWithTheOsReason) {
  const auto path = data_dir / "no-such-spec.yaml";
  try {
    load_spec(path);
    ADD_FAILURE() << "loaded a missing file";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), 0);
    EXPECT_THAT(e.reason(), HasSubstr("No such file or directory"));
    EXPECT_THAT(e.what(), HasSubstr(path.string()));
  }
}

TEST(LoadSpec, RefusesADirectoryWithTheOsReason) {
  try {
    load_spec(data_dir);
    ADD_FAILURE() << "loaded a directory";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.line(), 0);
    EXPECT_THAT(e.reason(), HasSubstr("Is a directory"));
  }
}

// A scratch directory for files load_spec must refuse.
class LoadSpecFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("hetsweep-spec-test-{}", ::getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

std::string refusal_of(const std::filesystem::path& path) {
  try {
    load_spec(path);
  } catch (const SpecError& e) {
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), 0);
    return e.reason();
  }
  return "accepted";
}

TEST(LoadSpec, RefusesDevicesThatNeverEnd) {
  EXPECT_EQ(refusal_of("/dev/zero"), "the spec must be a regular file, but this is a character device");
  EXPECT_EQ(refusal_of("/dev/urandom"), "the spec must be a regular file, but this is a character device");
}

TEST_F(LoadSpecFiles, RefusesAFifoWithoutWaitingForAWriter) {
  const auto fifo = dir_ / "spec.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(refusal_of(fifo), "the spec must be a regular file, but this is a FIFO");
}

TEST_F(LoadSpecFiles, ReadsUpToOneMebibyteAndRefusesMore) {
  const auto path = dir_ / "big.yaml";
  const std::string spec = "seed: 3\n";
  const auto write = [&](std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << spec << std::string(size - spec.size() - 1, '#') << '\n';  // one long comment line
  };
  write(static_cast<std::size_t>(max_spec_bytes));
  EXPECT_EQ(load_spec(path).seed, 3u);
  write(static_cast<std::size_t>(max_spec_bytes) + 1);
  EXPECT_EQ(refusal_of(path), "the spec is 1048577 bytes, more than the limit of 1048576 bytes (1 MiB)");
}

}  // namespace
}  // namespace hetsweep::spec

namespace hetsweep::spec {
namespace {

TEST(ParseSpec, RejectsNamesThatAreNotPlainIdentifiers) {
  EXPECT_NO_THROW(parse_spec("name: fig-2_b.v1\n", "s.yaml"));
  for (const char* text : {"name: \"two words\"\n", "name: \"x\nfixed: {dim: 4}\n", "name: a/b\n"}) {
    try {
      parse_spec(text, "s.yaml");
      ADD_FAILURE() << "accepted " << text;
    } catch (const SpecError& e) {
      EXPECT_EQ(e.key(), "name") << text;
      EXPECT_EQ(e.line(), 1) << text;
    }
  }
}

}  // namespace
}  // namespace hetsweep::spec
