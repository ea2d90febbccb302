#pragma once
// Counter-based random streams (Philox4x64-10 from Random123).
//
// Every draw of a run is addressed by (run seed, purpose, step, position), never by how many draws came
// before, so a run's numbers do not depend on the process, the order of runs or what else was computed.

#include <cstdint>
#include <span>

namespace hetsweep::science {

// What a stream is for. Distinct purposes give independent streams under the same seed.
enum class Purpose : std::uint64_t {
  basis = 1,          // the Haar-random rotation
  initialization,     // U0's Gaussian matrix when width < dim
  schedule,           // hetero's environment per step (schedule: random)
  sample_environment, // pooled's environment per sample
  sensing,            // the sensing draws (materialized: the matrices; exact: their projections)
  complement,         // exact sampler: the Gaussian on the orthogonal complement
  noise,              // the observation noise
};

class RandomStreams {
 public:
  explicit RandomStreams(std::uint64_t seed) : seed_(seed) {}

  // Fills `out` with standard normals: the stream (purpose, step), positions 0..out.size()-1.
  void normals(Purpose purpose, std::uint64_t step, std::span<double> out) const;
  // Fills `out` with integers uniform on 0..bound-1 from the stream (purpose, step).
  void uniform_indices(Purpose purpose, std::uint64_t step, std::uint32_t bound, std::span<std::int32_t> out) const;

 private:
  std::uint64_t seed_;
};

}  // namespace hetsweep::science
