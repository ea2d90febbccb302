#include "cli/shard.hpp"

#include <fmt/format.h>
#include <charconv>

#include "cli/exit_codes.hpp"

namespace hetsweep::cli {

Shard parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  Shard shard;
  const auto parse = [](std::string_view part, std::uint64_t& out) {
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), out);
    return error == std::errc{} && end == part.data() + part.size() && !part.empty();
  };
  if (slash == std::string_view::npos || !parse(text.substr(0, slash), shard.index) ||
      !parse(text.substr(slash + 1), shard.count) || shard.count == 0 || shard.index >= shard.count) {
    throw UsageError(fmt::format("--shard: '{}' is not I/N with 0 <= I < N (e.g. 0/4)", text));
  }
  return shard;
}

}  // namespace hetsweep::cli
