#include "science/random.hpp"

#include <Random123/boxmuller.hpp>
#include <Random123/philox.h>

namespace hetsweep::science {
namespace {

using Philox = r123::Philox4x64;

// Block `block` of the stream (purpose, step): four 64-bit words.
Philox::ctr_type block_bits(std::uint64_t seed, Purpose purpose, std::uint64_t step, std::uint64_t block) {
  const Philox::key_type key = {{seed, static_cast<std::uint64_t>(purpose)}};
  const Philox::ctr_type counter = {{step, block, 0, 0}};
  return Philox{}(counter, key);
}

}  // namespace

void RandomStreams::normals(Purpose purpose, std::uint64_t step, std::span<double> out) const {
  const std::size_t n = out.size();
  std::size_t i = 0;
  for (std::uint64_t block = 0; i < n; ++block) {
    const auto bits = block_bits(seed_, purpose, step, block);
    const auto first = r123::boxmuller(bits.v[0], bits.v[1]);
    const auto second = r123::boxmuller(bits.v[2], bits.v[3]);
    const double values[4] = {first.x, first.y, second.x, second.y};
    for (int j = 0; j < 4 && i < n; ++j) out[i++] = values[j];
  }
}

void RandomStreams::uniform_indices(Purpose purpose, std::uint64_t step, std::uint32_t bound,
                                    std::span<std::int32_t> out) const {
  const std::size_t n = out.size();
  std::size_t i = 0;
  for (std::uint64_t block = 0; i < n; ++block) {
    const auto bits = block_bits(seed_, purpose, step, block);
    for (int j = 0; j < 4 && i < n; ++j) {
      // The high 32 bits times the bound: uniform to within 2^-32 relative, without a modulo's bias.
      out[i++] = static_cast<std::int32_t>(((bits.v[j] >> 32) * bound) >> 32);
    }
  }
}

}  // namespace hetsweep::science
