#pragma once
// Plain YAML scalars read with the YAML 1.2 core schema (yaml-cpp resolves nulls only and leaves the rest to
// us), and values and scalars as spec messages quote them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "science/params.hpp"

namespace hetsweep::spec {

// A scalar and the type the core schema gives it.
struct Scalar {
  enum class Type : std::uint8_t { null, boolean, integer, real, string };
  Scalar(Type type, std::string text) : type(type), text(std::move(text)) {}
  Type type;
  std::string text;
  double number = 0;                       // integer and real: the value
  bool representable = true;               // integer and real: false when outside a double's range
  std::optional<std::uint64_t> magnitude;  // integer: |value| when it fits 64 bits
  bool negative = false;                   // integer: the sign
};

// The core schema's reading of a plain (untagged, unquoted) scalar: booleans, decimal, 0x and 0o integers,
// reals (.inf and .nan included), else a string.
Scalar resolve_plain(const std::string& text);

// User text quoted in a message: its first line, at most 40 characters.
std::string excerpt(std::string_view text);
// A scalar as a message names it: "the integer 3", "the string \"x\"", "null".
std::string describe(const Scalar& s);
// A value as people write it: reals in their shortest exact form (0.1, not 0.10000000000000001).
std::string display(const science::ParamValue& value);

}  // namespace hetsweep::spec
