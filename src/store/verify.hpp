#pragma once
// `hetsweep verify`: reads a results file completely and checks that it is whole and self-consistent (the
// layout, every chunk's checksum, /runs against the stored spec, statuses, final metrics against the
// trajectories, the cube against /runs), and optionally that chosen runs compute again to the same bits.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hetsweep::store {

struct VerifyOptions {
  // Finished runs to compute again and compare: none, this many chosen by `seed`, or recompute_all.
  std::int64_t recompute = 0;
  std::uint64_t seed = 0;
};
inline constexpr std::int64_t recompute_all = -1;

struct VerifyReport {
  std::string format;            // "hetsweep-1" or "hetsweep-2"
  std::string writer_version;    // the file's hetsweep_version attribute ("" when absent)
  std::string verifier_version;  // this build's version, which recomputed the runs
  std::int64_t rows = 0;
  std::int64_t finished = 0;    // rows not pending
  std::int64_t recomputed = 0;  // runs computed again
  // One line per problem found: where (dataset, row or cell), then what is wrong. At most a bounded number of
  // lines per kind of problem and dataset, then one line saying how many more there are.
  std::vector<std::string> problems;
  std::int64_t problem_count = 0;  // listed or not
  [[nodiscard]] bool clean() const { return problem_count == 0; }
};

// Checks the file at `path`, read-only (as a SWMR reader, so it may be a file a sweep is writing: pending
// rows are fine). Throws ResultsFileError when `path` is not a usable results file (missing, not HDF5, not of
// a format this version reads, no parsable spec); every other problem goes into the report.
// Runs are chosen for recomputing by spec::run_seed(options.seed, key), smallest first, so the choice depends
// on the seed and the runs' keys only. A run's results are a pure function of (parameters, seed, build): a
// file from another build may differ in recomputed runs without being damaged.
VerifyReport verify(const std::filesystem::path& path, const VerifyOptions& options = {});

}  // namespace hetsweep::store
