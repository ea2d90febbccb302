#include "spec/suggestions.hpp"

#include <array>
#include <string_view>

#include <gtest/gtest.h>

namespace hetsweep::spec {
namespace {

constexpr std::array<std::string_view, 3> known{"start", "stop", "num"};

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("seed", "seed"), 0u);
  EXPECT_EQ(edit_distance("", "grid"), 4u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("sitting", "kitten"), 3u);
}

TEST(Suggestion, NamesTheNearestKnownNameWhenCloseEnough) {
  EXPECT_EQ(suggestion("stat", known), "; did you mean 'start'?");
  EXPECT_EQ(suggestion("nu", known), "; did you mean 'num'?");
}

TEST(Suggestion, OffersNothingWhenEveryNameIsFarOff) {
  EXPECT_EQ(suggestion("replicates", known), "");
  // Two edits from "start": too far for a five-letter word (a third of its length is 1), near enough for a
  // six-letter one.
  EXPECT_EQ(suggestion("stxxt", known), "");
  EXPECT_EQ(suggestion("stxxrt", known), "; did you mean 'start'?");
}

TEST(Suggestion, OffersNothingWhenThereAreNoNames) { EXPECT_EQ(suggestion("grid", {}), ""); }

}  // namespace
}  // namespace hetsweep::spec
