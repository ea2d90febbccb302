#pragma once
// Counter-based random streams (Philox4x32-10 from Random123, normals by Boost.Random's ziggurat).
//
// Every draw of a run is addressed by (run seed, purpose, step, position), never by how many draws came
// before, so a run's numbers do not depend on the process, the order of runs or what else was computed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace hetsweep::science {

// What a stream is for. Distinct purposes give independent streams under the same seed.
enum class Purpose : std::uint64_t {
  basis = 1,           // the Haar-random rotation
  initialization,      // U0's Gaussian matrix when width < dim
  schedule,            // hetero's environment per step (schedule: random)
  sample_environment,  // pooled's environment per sample
  sensing,             // the sensing draws (materialized: the matrices; exact: their projections)
  complement,          // exact sampler: the Gaussian on the orthogonal complement
  noise,               // the observation noise
};

// Philox4x32-10 on many counters at once. Every kernel computes exactly Random123's r123::Philox4x32; they
// differ only in the instructions used, so which one runs never changes a number.
enum class PhiloxKernel : std::uint8_t { portable, avx2, avx512 };

using PhiloxKey = std::array<std::uint32_t, 2>;
// Counter words 1..3; word 0 is the block index.
using PhiloxCounterTail = std::array<std::uint32_t, 3>;

[[nodiscard]] bool philox_kernel_supported(PhiloxKernel kernel);  // by this build and this CPU
[[nodiscard]] PhiloxKernel fastest_philox_kernel();
// Blocks first, first+1, ..., first + out.size()/2 - 1 (out.size() even; no wrap past 2^32) into `out`, two
// 64-bit words per block: Philox's 32-bit outputs v0..v3 as v0 | v1 << 32, then v2 | v3 << 32.
void philox_blocks(PhiloxKernel kernel, PhiloxKey key, PhiloxCounterTail tail, std::uint32_t first,
                   std::span<std::uint64_t> out);

// The 64-bit words of the stream (seed, purpose, step), in order: Philox4x32-10 keyed by the seed, with
// counters {block, step low, step high, purpose}. A uniform random bit generator (for Boost.Random).
class StreamBits {
 public:
  using result_type = std::uint64_t;
  // `expected_words`: about how many words the caller will draw, so the first batch of blocks covers them
  // in one call of the kernel (never more than max_blocks; it changes no number, only how blocks are batched).
  StreamBits(std::uint64_t seed, Purpose purpose, std::uint64_t step, std::size_t expected_words = 0);
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    if (next_ == end_) refill();
    return words_[next_++];
  }
  // The words generated but not yet drawn (at least one: refills first if none are), for callers that look at
  // many at once; consume(n) then draws the first n of them.
  std::span<const std::uint64_t> buffered() {
    if (next_ == end_) refill();
    return {words_.data() + next_, end_ - next_};
  }
  void consume(std::size_t n) { next_ += n; }

 private:
  // Blocks are generated in batches that double from 8 (or the expected words) to max_blocks, so short streams
  // stay cheap.
  static constexpr std::size_t max_blocks = 128, first_blocks = 8;
  void refill();

  PhiloxKey key_;
  PhiloxCounterTail tail_;
  std::uint64_t next_block_ = 0;
  std::size_t batch_blocks_;
  std::size_t next_ = 0, end_ = 0;
  alignas(64) std::array<std::uint64_t, 2 * max_blocks> words_;
};

// The variates of one stream, drawn in order: drawing n normals and then k gives the numbers that drawing
// n + k at once does. Values use only +, -, *, / and sqrt, which IEEE 754 rounds the same everywhere; libm's
// exp and log, whose last bit may depend on the CPU, only decide acceptance tests, which a last-bit difference
// changes only when it falls exactly on the test's boundary.
class Variates {
 public:
  Variates(std::uint64_t seed, Purpose purpose, std::uint64_t step, std::size_t expected_words = 0)
      : bits_(seed, purpose, step, expected_words) {}
  // Standard normals by Boost.Random's 128-layer ziggurat (exactly its numbers): about 1.04 words each.
  void fill_normals(std::span<double> out);
  double normal();
  double uniform();  // on [0, 1)
  // Chi-square with `degrees` >= 1 degrees of freedom: z^2 for one, else 2 Gamma(degrees/2) by Marsaglia and
  // Tsang's method (2000), which calls libm only in its second acceptance test (about 8% of tries).
  double chi_square(std::int64_t degrees);

 private:
  StreamBits bits_;
};

class RandomStreams {
 public:
  explicit RandomStreams(std::uint64_t seed) : seed_(seed) {}

  // The stream (purpose, step), for callers that draw it in pieces or draw more than normals.
  // `expected_words`: see StreamBits (a normal takes about 1.04 words, a chi-square about 2).
  [[nodiscard]] Variates variates(Purpose purpose, std::uint64_t step, std::size_t expected_words = 0) const {
    return {seed_, purpose, step, expected_words};
  }
  // Fills `out` with standard normals: the stream (purpose, step), positions 0..out.size()-1.
  void normals(Purpose purpose, std::uint64_t step, std::span<double> out) const;
  // Fills `out` with integers uniform on 0..bound-1 from the stream (purpose, step).
  void uniform_indices(Purpose purpose, std::uint64_t step, std::uint32_t bound, std::span<std::int32_t> out) const;
  // How many of the first n integers uniform_indices(purpose, step, bound, ...) would draw equal each of
  // 0..bound-1 (counts.size() == bound), without storing them.
  void count_uniform_indices(Purpose purpose, std::uint64_t step, std::int64_t n, std::span<std::int64_t> counts) const;

 private:
  std::uint64_t seed_;
};

}  // namespace hetsweep::science
