#include "science/footprint.hpp"

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "science/metrics.hpp"
#include "science/records.hpp"

namespace hetsweep::science {

MemoryEstimate estimate_run_memory(const Params& p) {
  constexpr double number = 8;  // bytes of a double or an Eigen::Index
  const auto d = static_cast<double>(p.dim);
  const auto k = static_cast<double>(p.effective_width());
  const auto K = static_cast<double>(p.environments);
  const auto m = static_cast<double>(p.batch_size);
  const double packed = d * (d + 1) / 2;
  const double square = d * d;

  // Each term in numbers, by the parameter that makes it grow.
  double by_dim = 6 * square + 2 * d * k;  // basis, A*, pooled target, temporaries; U and its gradient
  double by_environments = K * square;     // the environments' targets A* + A^(e)
  double by_batch = 0;
  const bool population = p.algorithm == Algorithm::hetero_gd || p.algorithm == Algorithm::pooled_gd;
  if (population) {
    by_dim += 2 * square;
  } else {
    by_batch = 2.5 * m;  // a 4-byte environment index, the noise and the residual of every sample
    if (p.sensing == Sensing::rank_one) {
      const double block_rows = std::min(m, std::max(std::floor(8192 / d), 64.0));
      by_dim += block_rows * (d + k + static_cast<double>(p.invariant_rank + p.spurious_rank));
    } else if (p.effective_sampler() == Sampler::materialized) {
      by_environments += packed * K;
      by_dim += 3 * square + packed + std::min(m, std::max(std::floor(4096 / packed), 1.0)) * packed;
    } else {
      by_environments += 2 * packed * K + (K + 1) * K + (K + 1) * (K + 1) + 5 * K;
      by_dim += 3 * square + 2 * packed;
    }
  }
  // Eigen's blocking buffers and the like: a small constant.
  const double fixed = 1 << 20;
  const double records = static_cast<double>(record_count(p)) * sizeof(Record);
  const std::array<std::pair<double, std::string_view>, 4> parts{{{by_dim * number, "dim"},
                                                                  {by_environments * number, "environments"},
                                                                  {by_batch * number, "batch_size"},
                                                                  {records, "steps"}}};
  MemoryEstimate estimate{fixed, "dim"};
  double largest = -1;
  for (const auto& [bytes, name] : parts) {
    estimate.bytes += bytes;
    if (bytes > largest) {
      largest = bytes;
      estimate.dominant = name;
    }
  }
  return estimate;
}

double machine_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<double>(pages) * static_cast<double>(page_size) : 0;
}

double run_memory_limit() { return machine_memory() / 4; }

std::optional<ParamProblem> check_memory(const Params& params, double limit_bytes) {
  const auto estimate = estimate_run_memory(params);
  if (estimate.bytes <= limit_bytes) return std::nullopt;
  const auto what = estimate.dominant == "environments" ? "the environments"
                    : estimate.dominant == "batch_size" ? "the batch"
                    : estimate.dominant == "steps"      ? "the records (steps / record_every)"
                                                        : "the d x d matrices";
  return ParamProblem{std::string(estimate.dominant),
                      fmt::format("one run would need about {} of memory, mostly for {}; a run may take at most {} "
                                  "(a quarter of this machine's memory)",
                                  format_bytes(estimate.bytes), what, format_bytes(limit_bytes))};
}

std::string format_bytes(double bytes) {
  constexpr std::array<std::string_view, 6> units{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < units.size()) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[unit]);
}

}  // namespace hetsweep::science
