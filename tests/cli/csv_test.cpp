#include "cli/csv.hpp"

#include <gtest/gtest.h>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace hetsweep::cli {
namespace {

TEST(CsvField, LeavesPlainTextUnquoted) { EXPECT_EQ(csv_field("hetero_gd"), "hetero_gd"); }

TEST(CsvField, QuotesCommasQuotesAndLineBreaksDoublingQuotes) {
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

TEST(CsvReal, ReadsBackToTheSameDouble) {
  for (double x : {0.1, 1.0 / 3.0, 1.4142135623730951, 5e-324, 1.7976931348623157e308, -2.5e-7, 0.0}) {
    const auto text = csv_real(x);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), x) << text;  // strtod: stod refuses subnormals
  }
}

TEST(CsvReal, WritesNanAsAnEmptyFieldAndInfinitiesByName) {
  EXPECT_EQ(csv_real(std::numeric_limits<double>::quiet_NaN()), "");
  EXPECT_EQ(csv_real(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(csv_real(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(CsvLine, JoinsFieldsWithCommasAndEndsTheLine) { EXPECT_EQ(csv_line({"a", "", "\"b,c\""}), "a,,\"b,c\"\n"); }

}  // namespace
}  // namespace hetsweep::cli
