#include "spec/suggestions.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace hetsweep::spec {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

std::string suggestion(std::string_view word, std::span<const std::string_view> known) {
  const std::size_t tolerance = std::max<std::size_t>(1, word.size() / 3);
  std::string_view best;
  std::size_t best_distance = tolerance + 1;
  for (std::string_view name : known) {
    const auto d = edit_distance(word, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best.empty() ? std::string() : fmt::format("; did you mean '{}'?", best);
}

}  // namespace hetsweep::spec
