#pragma once
// What one run holds in memory, estimated from its parameters before it starts, and the share of the
// machine's memory a run may take. Refusing a run up front beats a bad_alloc (or the OOM killer) mid-sweep.

#include <cstdint>
#include <optional>
#include <string_view>

#include "science/params.hpp"

namespace hetsweep::science {

struct MemoryEstimate {
  double bytes = 0;  // a double, so that no parameter value can overflow it
  // The parameter whose term is the largest part: dim, environments, batch_size or steps (the records).
  std::string_view dominant;
};

// The peak memory of simulate(params, seed), from what the model, the sampler and the records allocate
// (d the dimension, k the width, K environments, m the batch size, P = d(d+1)/2, 8-byte numbers):
//   model           (K + 6) d^2 + 2 d k        targets A* + A^(e), basis, temporaries, U and its gradient
//   population      2 d^2                      (hetero_gd, pooled_gd)
//   materialized    P K + 3 d^2 + 2.5 m + P + min(m, max(4096 / P, 1)) P     (Gaussian)
//   exact           P K + 3 d^2 + 2.5 m + (K + 1) K + (K + 1)^2 + 2 P + P K + 5 K
//   rank one        2.5 m + B (d + k + r + rs), B = min(m, max(8192 / d, 64)) rows of samples per block
//   records         48 bytes per record step
// where 2.5 m counts the batch's environment index (4 bytes), noise and residual per sample. Valid params only.
MemoryEstimate estimate_run_memory(const Params& params);

// The most one run may take: a quarter of the machine's physical memory (sysconf, as /proc/meminfo's
// MemTotal), so that a worker per core on a node with a few cores stays within it.
double run_memory_limit();
// The machine's physical memory in bytes.
double machine_memory();

// Why a run of `params` would take more than `limit_bytes`, reported against the dominant parameter; nullopt
// when it fits. The message names the estimate and the limit.
std::optional<ParamProblem> check_memory(const Params& params, double limit_bytes);

// Bytes as people read them: "512 B", "3.2 MiB", "17.6 GiB".
std::string format_bytes(double bytes);

}  // namespace hetsweep::science
