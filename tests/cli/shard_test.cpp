#include "cli/shard.hpp"

#include <gtest/gtest.h>

#include "cli/exit_codes.hpp"

namespace hetsweep::cli {
namespace {

TEST(ParseShard, ReadsIndexOverCount) {
  const auto shard = parse_shard("2/5");
  EXPECT_EQ(shard.index, 2u);
  EXPECT_EQ(shard.count, 5u);
}

TEST(ParseShard, RejectsMalformedOrOutOfRange) {
  for (const char* bad : {"", "3", "5/5", "1/0", "-1/4", "a/b", "1/4x", "/4"}) {
    EXPECT_THROW(parse_shard(bad), UsageError) << bad;
  }
}

TEST(Shard, SlicesPartitionTheRuns) {
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    int owners = 0;
    for (std::uint64_t i = 0; i < 3; ++i) owners += Shard{i, 3}.contains(seed * 0x9E3779B97F4A7C15ull) ? 1 : 0;
    EXPECT_EQ(owners, 1);
  }
}

}  // namespace
}  // namespace hetsweep::cli
