#include "science/params.hpp"

#include <gtest/gtest.h>
#include <cmath>
#include <limits>
#include <set>

namespace hetsweep::science {
namespace {

TEST(Parameters, NamesAreUniqueAndFindable) {
  std::set<std::string_view> names;
  for (const auto& spec : parameters()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_EQ(find_parameter(spec.name), &spec);
  }
  EXPECT_EQ(find_parameter("no_such_parameter"), nullptr);
}

TEST(Parameters, GetReturnsWhatSetStored) {
  Params p;
  find_parameter("step_size")->set(p, 0.25);
  find_parameter("batch_size")->set(p, std::int64_t{80});
  find_parameter("algorithm")->set(p, std::string("pooled_gd"));
  EXPECT_EQ(p.step_size, 0.25);
  EXPECT_EQ(p.batch_size, 80);
  EXPECT_EQ(p.algorithm, Algorithm::pooled_gd);
  EXPECT_EQ(std::get<std::string>(find_parameter("algorithm")->get(p)), "pooled_gd");
}

TEST(CheckValue, RejectsNonPositiveStepSize) {
  const auto& eta = *find_parameter("step_size");
  EXPECT_TRUE(check_value(eta, 0.0).has_value());
  EXPECT_TRUE(check_value(eta, -1.0).has_value());
  EXPECT_FALSE(check_value(eta, 0.05).has_value());
}

TEST(CheckValue, RejectsNonFiniteAndWrongKinds) {
  const auto& m = *find_parameter("heterogeneity");
  EXPECT_TRUE(check_value(m, std::numeric_limits<double>::quiet_NaN()).has_value());
  EXPECT_TRUE(check_value(m, std::numeric_limits<double>::infinity()).has_value());
  EXPECT_TRUE(check_value(m, std::string("six")).has_value());
  EXPECT_TRUE(check_value(*find_parameter("batch_size"), 2.5).has_value());
  EXPECT_FALSE(check_value(m, std::int64_t{6}).has_value());
}

TEST(CheckValue, RejectsUnknownChoice) {
  const auto problem = check_value(*find_parameter("algorithm"), std::string("adam"));
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("hetero"), std::string::npos);
}

TEST(CheckConsistency, RejectsRanksBeyondDimension) {
  Params p;
  p.dim = 3;
  p.invariant_rank = 2;
  p.spurious_rank = 2;
  const auto problems = check_consistency(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].key, "spurious_rank");
}

TEST(CheckConsistency, RejectsExactSamplerForRankOneSensing) {
  Params p;
  p.sensing = Sensing::rank_one;
  p.sampler = Sampler::exact;
  ASSERT_EQ(check_consistency(p).size(), 1u);
  EXPECT_EQ(check_consistency(p)[0].key, "sampler");
  p.sampler = Sampler::automatic;
  EXPECT_TRUE(check_consistency(p).empty());
  EXPECT_EQ(p.effective_sampler(), Sampler::materialized);
}

// Every integer parameter has a finite range, and values at the int64 extremes are refused by it.
TEST(CheckValue, EveryIntegerParameterHasAFiniteMaximum) {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  for (const auto& spec : parameters()) {
    if (spec.kind != ParamKind::integer) continue;
    SCOPED_TRACE(spec.name);
    EXPECT_TRUE(std::isfinite(spec.max));
    EXPECT_FALSE(check_value(spec, static_cast<std::int64_t>(spec.max)).has_value());
    EXPECT_TRUE(check_value(spec, static_cast<std::int64_t>(spec.max) + 1).has_value());
    EXPECT_TRUE(check_value(spec, std::int64_t{1} << 62).has_value());
    EXPECT_TRUE(check_value(spec, max).has_value());
  }
}

TEST(CheckValue, StatesTheRangesOfTheSizes) {
  EXPECT_EQ(check_value(*find_parameter("dim"), std::int64_t{4096}), "4096 is outside the allowed range [1, 1024]");
  EXPECT_EQ(check_value(*find_parameter("batch_size"), std::int64_t{1} << 40),
            "1099511627776 is outside the allowed range [1, 1000000000]");
  EXPECT_EQ(check_value(*find_parameter("steps"), std::numeric_limits<std::int64_t>::max()),
            "9223372036854775807 is outside the allowed range [0, 1000000000]");
  EXPECT_EQ(check_value(*find_parameter("environments"), std::int64_t{1'000'000}),
            "1000000 is outside the allowed range [1, 100000]");
}

TEST(FormatValue, RoundTripsReals) {
  const double x = 0.1 + 0.2;
  EXPECT_EQ(std::stod(format_value(x)), x);
  EXPECT_EQ(format_value(std::int64_t{-3}), "-3");
}

}  // namespace
}  // namespace hetsweep::science
