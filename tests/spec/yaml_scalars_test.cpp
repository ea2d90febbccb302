#include "spec/yaml_scalars.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace hetsweep::spec {
namespace {

using Type = Scalar::Type;

TEST(ResolvePlain, ReadsTheCoreSchemaBooleansOnly) {
  for (const char* text : {"true", "True", "TRUE", "false", "False", "FALSE"}) {
    EXPECT_EQ(resolve_plain(text).type, Type::boolean) << text;
  }
  for (const char* text : {"yes", "no", "on", "off", "tRUE"}) EXPECT_EQ(resolve_plain(text).type, Type::string) << text;
}

TEST(ResolvePlain, ReadsDecimalHexAndOctalIntegers) {
  const auto decimal = resolve_plain("-42");
  EXPECT_EQ(decimal.type, Type::integer);
  EXPECT_TRUE(decimal.negative);
  EXPECT_EQ(decimal.magnitude, 42u);
  EXPECT_EQ(decimal.number, -42.0);
  EXPECT_EQ(resolve_plain("+7").magnitude, 7u);
  EXPECT_EQ(resolve_plain("0x1F").magnitude, 31u);
  EXPECT_EQ(resolve_plain("0o17").magnitude, 15u);
  // Only decimal integers take a sign; "0x" alone and a digit beyond the base are strings.
  for (const char* text : {"-0x10", "0x", "0o8", "0b101"}) EXPECT_EQ(resolve_plain(text).type, Type::string) << text;
}

TEST(ResolvePlain, KeepsTheNumberButNoMagnitudeWhenAnIntegerExceeds64Bits) {
  const auto big = resolve_plain("18446744073709551616");  // 2^64
  EXPECT_EQ(big.type, Type::integer);
  EXPECT_FALSE(big.magnitude.has_value());
  EXPECT_TRUE(big.representable);
  EXPECT_EQ(big.number, 0x1p64);
  EXPECT_EQ(resolve_plain("18446744073709551615").magnitude, std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(resolve_plain("0x10000000000000000").representable);
}

TEST(ResolvePlain, ReadsRealsInfinitiesAndNan) {
  EXPECT_EQ(resolve_plain("1e3").type, Type::real);
  EXPECT_EQ(resolve_plain("1e3").number, 1000.0);
  EXPECT_EQ(resolve_plain(".5").number, 0.5);
  EXPECT_EQ(resolve_plain("-2.").number, -2.0);
  EXPECT_EQ(resolve_plain("-.inf").number, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(resolve_plain(".NaN").number));
  for (const char* text : {"e3", ".", "1e", "1.2.3", "inf", "nan", "1_000"}) {
    EXPECT_EQ(resolve_plain(text).type, Type::string) << text;
  }
}

TEST(ResolvePlain, MarksARealBeyondTheDoubleRangeUnrepresentable) {
  EXPECT_FALSE(resolve_plain("1e400").representable);
  EXPECT_TRUE(resolve_plain("1e300").representable);
}

TEST(Excerpt, KeepsShortTextAndCutsLongOrMultiLineText) {
  EXPECT_EQ(excerpt("short"), "short");
  EXPECT_EQ(excerpt(std::string(41, 'a')), std::string(40, 'a') + "...");
  EXPECT_EQ(excerpt("first\nsecond"), "first...");
}

TEST(Describe, NamesTheTypeAndTheText) {
  EXPECT_EQ(describe(resolve_plain("true")), "the boolean true");
  EXPECT_EQ(describe(resolve_plain("0x10")), "the integer 0x10");
  EXPECT_EQ(describe(resolve_plain("1e3")), "the number 1e3");
  EXPECT_EQ(describe(resolve_plain("hetero")), "the string \"hetero\"");
  EXPECT_EQ(describe(Scalar{Type::null, "null"}), "null");
}

TEST(Display, WritesRealsInTheirShortestExactForm) {
  EXPECT_EQ(display(science::ParamValue{0.1}), "0.1");
  EXPECT_EQ(display(science::ParamValue{std::int64_t{20}}), "20");
  EXPECT_EQ(display(science::ParamValue{std::string("hetero")}), "hetero");
  // What display writes reads back as the same value.
  for (double x : {0.1, 1e-300, 123456.789, -2.5e17})
    EXPECT_EQ(resolve_plain(display(science::ParamValue{x})).number, x);
}

}  // namespace
}  // namespace hetsweep::spec
