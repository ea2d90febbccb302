#include "refine/bisection.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace hetsweep::refine {

double as_double(const science::ParamValue& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<double>(*integer);
  return std::get<double>(value);
}

std::optional<science::ParamValue> midpoint(const science::ParamValue& lo, const science::ParamValue& hi) {
  if (const auto* low = std::get_if<std::int64_t>(&lo)) {
    const auto high = std::get<std::int64_t>(hi);
    // The parameters' integers are non-negative, so hi - lo cannot overflow.
    const std::int64_t middle = *low + (high - *low) / 2;
    if (middle <= *low || middle >= high) return std::nullopt;
    return middle;
  }
  const double low = std::get<double>(lo);
  const double high = std::get<double>(hi);
  double middle = low + (high - low) / 2;
  if (!std::isfinite(middle)) middle = low / 2 + high / 2;  // hi - lo beyond the largest double
  if (!(middle > low && middle < high)) return std::nullopt;
  return middle == 0 ? 0.0 : middle;  // no negative zero: 0 and -0 are one run
}

bool is_final(const science::ParamValue& lo, const science::ParamValue& hi, double tolerance) {
  return as_double(hi) - as_double(lo) <= tolerance || !midpoint(lo, hi);
}

std::int64_t max_points(const science::ParamValue& lo, const science::ParamValue& hi, double tolerance) {
  std::int64_t points = 0;
  auto low = lo, high = hi;
  while (!is_final(low, high, tolerance)) {
    const auto middle = *midpoint(low, high);
    ++points;
    if (as_double(middle) - as_double(low) >= as_double(high) - as_double(middle)) {
      high = middle;
    } else {
      low = middle;
    }
  }
  return points;
}

std::int64_t max_points_per_combination(const spec::SweepSpec& spec) {
  const auto& refine = *spec.refine;
  const auto& axis =
      *std::find_if(spec.axes.begin(), spec.axes.end(), [&](const spec::Axis& a) { return a.name == refine.axis; });
  std::vector<science::ParamValue> values = axis.values;
  std::sort(values.begin(), values.end());
  if (refine.diverged_as == spec::Refine::Diverged::skip) {
    return static_cast<std::int64_t>(values.size() - 1) * max_points(values.front(), values.back(), refine.tolerance);
  }
  std::int64_t points = 0;
  for (std::size_t i = 0; i + 1 < values.size(); ++i) points += max_points(values[i], values[i + 1], refine.tolerance);
  return points;
}

}  // namespace hetsweep::refine
