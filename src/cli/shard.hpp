#pragma once
// `--shard I/N`: a deterministic 1/N slice of a sweep's runs, chosen by run seed (a hash of the sweep seed
// and the run key) so that it does not depend on the grid's order or on rows appended later.

#include <cstdint>
#include <string_view>

namespace hetsweep::cli {

struct Shard {
  std::uint64_t index = 0;
  std::uint64_t count = 1;
  [[nodiscard]] bool contains(std::uint64_t run_seed) const { return run_seed % count == index; }
};

// Parses "I/N" with 0 <= I < N; throws UsageError naming the flag otherwise.
Shard parse_shard(std::string_view text);

}  // namespace hetsweep::cli
