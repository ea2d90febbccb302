#pragma once
// Test support: the two-sample Kolmogorov-Smirnov statistic.

#include <algorithm>
#include <cmath>
#include <vector>

namespace hetsweep::science {

// The largest gap between the empirical distribution functions of a and b (sizes may differ; ties count
// once both sides have passed them).
inline double two_sample_ks(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  double gap = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    gap = std::max(gap, std::abs(static_cast<double>(i) / static_cast<double>(a.size()) -
                                 static_cast<double>(j) / static_cast<double>(b.size())));
  }
  return gap;
}

}  // namespace hetsweep::science
