#include "science/random.hpp"

#include <Random123/philox.h>

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#if defined(__x86_64__)
#include <immintrin.h>
#define HETSWEEP_X86_KERNELS 1
#endif

namespace hetsweep::science {
namespace {

using Philox = r123::Philox4x32;

constexpr std::uint32_t multiplier0 = PHILOX_M4x32_0, multiplier1 = PHILOX_M4x32_1;
constexpr std::uint32_t key_bump0 = PHILOX_W32_0, key_bump1 = PHILOX_W32_1;
static_assert(Philox::rounds == 10);

void portable_blocks(PhiloxKey key, PhiloxCounterTail tail, std::uint32_t first, std::span<std::uint64_t> out) {
  const Philox::key_type k = {{key[0], key[1]}};
  for (std::size_t i = 0; 2 * i < out.size(); ++i) {
    const Philox::ctr_type counter = {{first + static_cast<std::uint32_t>(i), tail[0], tail[1], tail[2]}};
    const Philox::ctr_type block = Philox{}(counter, k);
    out[2 * i] = block.v[0] | std::uint64_t{block.v[1]} << 32;
    out[2 * i + 1] = block.v[2] | std::uint64_t{block.v[3]} << 32;
  }
}

#ifdef HETSWEEP_X86_KERNELS
// The SIMD kernels hold each 32-bit Philox word in the low half of a 64-bit lane, one block per lane, so a
// round's 32x32->64 products are single unsigned multiplies (which read only the low halves) and no lane
// shuffles are needed until the end. V independent vectors per iteration hide the multiplies' latency.
// Integer arithmetic only: the bits are the same whatever the instruction set.

template <int V>
__attribute__((target("avx2"))) std::size_t avx2_blocks(PhiloxKey key, PhiloxCounterTail tail, std::uint32_t first,
                                                        std::span<std::uint64_t> out) {
  constexpr std::size_t group = 4 * V;
  const __m256i m0 = _mm256_set1_epi64x(multiplier0), m1 = _mm256_set1_epi64x(multiplier1);
  const __m256i low = _mm256_set1_epi64x(0xffffffff), lane = _mm256_set_epi64x(3, 2, 1, 0);
  const std::size_t blocks = out.size() / 2 / group * group;
  for (std::size_t b = 0; b < blocks; b += group) {
    __m256i x0[V], x1[V], x2[V], x3[V];
    for (int v = 0; v < V; ++v) {
      x0[v] = _mm256_add_epi64(_mm256_set1_epi64x(first + static_cast<std::uint32_t>(b + 4 * v)), lane);
      x1[v] = _mm256_set1_epi64x(tail[0]);
      x2[v] = _mm256_set1_epi64x(tail[1]);
      x3[v] = _mm256_set1_epi64x(tail[2]);
    }
    std::uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      const __m256i round_key0 = _mm256_set1_epi64x(k0), round_key1 = _mm256_set1_epi64x(k1);
      for (int v = 0; v < V; ++v) {
        const __m256i p0 = _mm256_mul_epu32(x0[v], m0), p1 = _mm256_mul_epu32(x2[v], m1);
        x0[v] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), x1[v]), round_key0);
        x1[v] = p1;
        x2[v] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), x3[v]), round_key1);
        x3[v] = p0;
      }
      k0 += key_bump0;
      k1 += key_bump1;
    }
    for (int v = 0; v < V; ++v) {
      const __m256i w0 = _mm256_or_si256(_mm256_and_si256(x0[v], low), _mm256_slli_epi64(x1[v], 32));
      const __m256i w1 = _mm256_or_si256(_mm256_and_si256(x2[v], low), _mm256_slli_epi64(x3[v], 32));
      const __m256i even = _mm256_unpacklo_epi64(w0, w1), odd = _mm256_unpackhi_epi64(w0, w1);  // blocks 0 2, 1 3
      auto* to = reinterpret_cast<__m256i*>(out.data() + 2 * (b + 4 * v));
      _mm256_storeu_si256(to, _mm256_permute2x128_si256(even, odd, 0x20));
      _mm256_storeu_si256(to + 1, _mm256_permute2x128_si256(even, odd, 0x31));
    }
  }
  return blocks;
}

// GCC 12's AVX-512 shift and multiply intrinsics pass an undefined vector internally and warn about it
// (GCC bug 105593), so the warning is off for this kernel only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <int V>
__attribute__((target("avx512f"))) std::size_t avx512_blocks(PhiloxKey key, PhiloxCounterTail tail, std::uint32_t first,
                                                             std::span<std::uint64_t> out) {
  constexpr std::size_t group = 8 * V;
  const __m512i m0 = _mm512_set1_epi64(multiplier0), m1 = _mm512_set1_epi64(multiplier1);
  const __m512i low = _mm512_set1_epi64(0xffffffff), lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  // Interleave the w0 and w1 words of blocks 0..3 and of blocks 4..7.
  const __m512i first_half = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i second_half = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  const std::size_t blocks = out.size() / 2 / group * group;
  for (std::size_t b = 0; b < blocks; b += group) {
    __m512i x0[V], x1[V], x2[V], x3[V];
    for (int v = 0; v < V; ++v) {
      x0[v] = _mm512_add_epi64(_mm512_set1_epi64(first + static_cast<std::uint32_t>(b + 8 * v)), lane);
      x1[v] = _mm512_set1_epi64(tail[0]);
      x2[v] = _mm512_set1_epi64(tail[1]);
      x3[v] = _mm512_set1_epi64(tail[2]);
    }
    std::uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      const __m512i round_key0 = _mm512_set1_epi64(k0), round_key1 = _mm512_set1_epi64(k1);
      for (int v = 0; v < V; ++v) {
        const __m512i p0 = _mm512_mul_epu32(x0[v], m0), p1 = _mm512_mul_epu32(x2[v], m1);
        x0[v] = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p1, 32), x1[v]), round_key0);
        x1[v] = p1;
        x2[v] = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p0, 32), x3[v]), round_key1);
        x3[v] = p0;
      }
      k0 += key_bump0;
      k1 += key_bump1;
    }
    for (int v = 0; v < V; ++v) {
      const __m512i w0 = _mm512_or_si512(_mm512_and_si512(x0[v], low), _mm512_slli_epi64(x1[v], 32));
      const __m512i w1 = _mm512_or_si512(_mm512_and_si512(x2[v], low), _mm512_slli_epi64(x3[v], 32));
      std::uint64_t* to = out.data() + 2 * (b + 8 * v);
      _mm512_storeu_si512(to, _mm512_permutex2var_epi64(w0, first_half, w1));
      _mm512_storeu_si512(to + 8, _mm512_permutex2var_epi64(w0, second_half, w1));
    }
  }
  return blocks;
}
#pragma GCC diagnostic pop
#endif

}  // namespace

bool philox_kernel_supported(PhiloxKernel kernel) {
  switch (kernel) {
    case PhiloxKernel::portable:
      return true;
#ifdef HETSWEEP_X86_KERNELS
    case PhiloxKernel::avx2:
      return __builtin_cpu_supports("avx2");
    case PhiloxKernel::avx512:
      return __builtin_cpu_supports("avx512f");
#else
    case PhiloxKernel::avx2:
    case PhiloxKernel::avx512:
      return false;
#endif
  }
  return false;
}

PhiloxKernel fastest_philox_kernel() {
  static const PhiloxKernel fastest = philox_kernel_supported(PhiloxKernel::avx512) ? PhiloxKernel::avx512
                                      : philox_kernel_supported(PhiloxKernel::avx2) ? PhiloxKernel::avx2
                                                                                    : PhiloxKernel::portable;
  return fastest;
}

void philox_blocks(PhiloxKernel kernel, PhiloxKey key, PhiloxCounterTail tail, std::uint32_t first,
                   std::span<std::uint64_t> out) {
  std::size_t done = 0;  // blocks
  auto rest = [&] { return out.subspan(2 * done); };
  auto after = [&] { return first + static_cast<std::uint32_t>(done); };
#ifdef HETSWEEP_X86_KERNELS
  if (kernel == PhiloxKernel::avx512) {
    done += avx512_blocks<4>(key, tail, after(), rest());
    done += avx512_blocks<1>(key, tail, after(), rest());
  } else if (kernel == PhiloxKernel::avx2) {
    done += avx2_blocks<4>(key, tail, after(), rest());
    done += avx2_blocks<1>(key, tail, after(), rest());
  }
#else
  (void)kernel;
#endif
  portable_blocks(key, tail, after(), rest());
}

StreamBits::StreamBits(std::uint64_t seed, Purpose purpose, std::uint64_t step, std::size_t expected_words)
    : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
      tail_{static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32),
            static_cast<std::uint32_t>(purpose)},
      batch_blocks_(expected_words == 0 ? first_blocks : std::min((expected_words + 1) / 2, max_blocks)) {}

void StreamBits::refill() {
  if (next_block_ + batch_blocks_ > std::uint64_t{std::numeric_limits<std::uint32_t>::max()} + 1) {
    throw std::length_error("random stream exhausted: more than 2^33 words drawn from one (purpose, step)");
  }
  philox_blocks(fastest_philox_kernel(), key_, tail_, static_cast<std::uint32_t>(next_block_),
                std::span(words_).first(2 * batch_blocks_));
  next_block_ += batch_blocks_;
  next_ = 0;
  end_ = 2 * batch_blocks_;
  batch_blocks_ = std::min(2 * batch_blocks_, max_blocks);
}

namespace {

// Boost.Random's unit normal ziggurat (1.74) turns a 64-bit word u into sign * x, with the sign from bit 0,
// the layer i from bits 1..7 and x = ((u >> 8) with bit 3 cleared) * 2^-56 * table_x[i], when x < table_x[i+1];
// otherwise its full algorithm runs from that word on. This loop is that first test alone, over consecutive
// words and up to the first it would reject (2.8% of words): cheaper than a call into Boost per normal (3.2
// instead of 3.9 ns a normal, bits included). Returns how many of min(words.size(), out.size()) normals it wrote.
// The same operations in the same order as Boost's, so the same doubles (a test compares the two over 10^7
// draws, and would catch a Boost version that changed them).
std::size_t ziggurat_fast_path(std::span<const std::uint64_t> words, std::span<double> out) {
  const double* table_x = boost::random::detail::normal_table<double>::table_x;
  const std::size_t n = std::min(words.size(), out.size());
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint64_t u = words[j];
    const std::size_t layer = (u >> 1) & 127;
    const int sign = static_cast<int>(u & 1) * 2 - 1;
    const auto fraction = static_cast<double>(static_cast<std::int64_t>((u >> 8) & ~std::uint64_t{8})) * 0x1p-56;
    const double x = fraction * table_x[layer];
    if (!(x < table_x[layer + 1])) return j;
    out[j] = x * sign;
  }
  return n;
}

}  // namespace

void Variates::fill_normals(std::span<double> out) {
  boost::random::detail::unit_normal_distribution<double> ziggurat;
  for (std::size_t i = 0; i < out.size();) {
    const auto words = bits_.buffered();
    const std::size_t accepted = ziggurat_fast_path(words, out.subspan(i));
    bits_.consume(accepted);
    i += accepted;
    // A word the fast path rejects: Boost's whole algorithm draws this normal, from that word on.
    if (accepted < words.size() && i < out.size()) out[i++] = ziggurat(bits_);
  }
}

double Variates::normal() {
  double x = 0;
  fill_normals({&x, 1});
  return x;
}

double Variates::uniform() { return boost::random::uniform_01<double>{}(bits_); }

double Variates::chi_square(std::int64_t degrees) {
  if (degrees < 1) throw std::invalid_argument("chi_square: degrees of freedom must be at least 1");
  if (degrees == 1) {
    const double z = normal();
    return z * z;
  }
  // Gamma(a), a = degrees/2 >= 1, is d v for v = (1 + c x)^3, x normal, accepted with probability
  // proportional to its density ratio; the squeeze 1 - 0.0331 x^4 accepts about 92% without a logarithm.
  const double d = 0.5 * static_cast<double>(degrees) - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = normal();
    const double cube_root = 1.0 + c * x;
    if (cube_root <= 0) continue;
    const double v = cube_root * cube_root * cube_root;
    const double u = uniform(), x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2 || std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return 2.0 * d * v;
  }
}

void RandomStreams::normals(Purpose purpose, std::uint64_t step, std::span<double> out) const {
  // About 1.04 words a normal: the ziggurat rejects 2.8% of words, and each rejection takes a few more.
  variates(purpose, step, out.size() + out.size() / 16 + 2).fill_normals(out);
}

void RandomStreams::uniform_indices(Purpose purpose, std::uint64_t step, std::uint32_t bound,
                                    std::span<std::int32_t> out) const {
  StreamBits bits(seed_, purpose, step, out.size());
  // The high 32 bits times the bound: uniform to within 2^-32 relative, without a modulo's bias.
  for (auto& index : out) index = static_cast<std::int32_t>(((bits() >> 32) * bound) >> 32);
}

void RandomStreams::count_uniform_indices(Purpose purpose, std::uint64_t step, std::int64_t n,
                                          std::span<std::int64_t> counts) const {
  const auto bound = static_cast<std::uint64_t>(counts.size());
  StreamBits bits(seed_, purpose, step, static_cast<std::size_t>(n));
  std::ranges::fill(counts, 0);
  if (bound == 2) {
    // Index 1 exactly when the top bit is set: ((w >> 32) * 2) >> 32 = w >> 63. A sum, with no dependence
    // through memory from one word to the next.
    std::int64_t ones = 0;
    for (std::int64_t left = n; left > 0;) {
      const auto buffered = bits.buffered();
      const auto words = buffered.first(
          left < static_cast<std::int64_t>(buffered.size()) ? static_cast<std::size_t>(left) : buffered.size());
      for (const std::uint64_t w : words) ones += static_cast<std::int64_t>(w >> 63);
      bits.consume(words.size());
      left -= static_cast<std::int64_t>(words.size());
    }
    counts[0] = n - ones;
    counts[1] = ones;
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(((bits() >> 32) * bound) >> 32)];
}

}  // namespace hetsweep::science
