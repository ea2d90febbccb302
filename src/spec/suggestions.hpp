#pragma once
// "Did you mean" suggestions for misspelt names in a spec.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace hetsweep::spec {

// The Levenshtein distance: the fewest insertions, deletions and substitutions that turn a into b.
std::size_t edit_distance(std::string_view a, std::string_view b);

// "; did you mean 'x'?" for the nearest of `known` when it is within a third of the word's length (at least 1)
// of `word`, else "".
std::string suggestion(std::string_view word, std::span<const std::string_view> known);

}  // namespace hetsweep::spec
