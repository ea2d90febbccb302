#include "spec/yaml_scalars.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace hetsweep::spec {
namespace {

bool all_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [base](char c) {
    if (base == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    return c >= '0' && c < static_cast<char>('0' + base);
  });
}

// The core schema's float syntax without the sign: ( \.[0-9]+ | [0-9]+(\.[0-9]*)? ) ([eE][-+]?[0-9]+)?
bool is_float_syntax(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  std::size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

Scalar integer_scalar(const std::string& text, std::string_view digits, int base, bool negative) {
  Scalar s{Scalar::Type::integer, text};
  s.negative = negative;
  std::uint64_t magnitude = 0;
  if (std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base).ec == std::errc()) {
    s.magnitude = magnitude;
    s.number = static_cast<double>(magnitude);
  } else if (base != 10 || std::from_chars(digits.data(), digits.data() + digits.size(), s.number).ec != std::errc()) {
    s.representable = false;
  }
  if (negative) s.number = -s.number;
  return s;
}

}  // namespace

Scalar resolve_plain(const std::string& text) {
  using Type = Scalar::Type;
  constexpr std::array<std::string_view, 6> booleans{"true", "True", "TRUE", "false", "False", "FALSE"};
  if (std::find(booleans.begin(), booleans.end(), text) != booleans.end()) return {Type::boolean, text};
  const std::string_view s = text;
  if (s.size() > 2 && s.starts_with("0x") && all_digits(s.substr(2), 16))
    return integer_scalar(text, s.substr(2), 16, false);
  if (s.size() > 2 && s.starts_with("0o") && all_digits(s.substr(2), 8))
    return integer_scalar(text, s.substr(2), 8, false);
  const bool negative = s.starts_with('-');
  const auto body = (negative || s.starts_with('+')) ? s.substr(1) : s;
  if (all_digits(body, 10)) return integer_scalar(text, body, 10, negative);
  Scalar real{Type::real, text};
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    real.number = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  } else if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    real.number = std::numeric_limits<double>::quiet_NaN();
  } else if (is_float_syntax(body)) {
    real.representable = std::from_chars(body.data(), body.data() + body.size(), real.number).ec == std::errc();
    if (negative) real.number = -real.number;
  } else {
    return {Type::string, text};
  }
  return real;
}

std::string excerpt(std::string_view text) {
  constexpr std::size_t limit = 40;
  const auto line = text.substr(0, text.find('\n'));
  return line.size() <= limit && line.size() == text.size() ? std::string(text)
                                                            : fmt::format("{}...", line.substr(0, limit));
}

std::string describe(const Scalar& s) {
  switch (s.type) {
    case Scalar::Type::null:
      return "null";
    case Scalar::Type::boolean:
      return fmt::format("the boolean {}", s.text);
    case Scalar::Type::integer:
      return fmt::format("the integer {}", s.text);
    case Scalar::Type::real:
      return fmt::format("the number {}", s.text);
    case Scalar::Type::string:
      return fmt::format("the string \"{}\"", excerpt(s.text));
  }
  return s.text;
}

std::string display(const science::ParamValue& value) {
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  return science::format_value(value);
}

}  // namespace hetsweep::spec
