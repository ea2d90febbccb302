#pragma once
// What a run measures: the metrics of a state U, and a record of them at one step.

#include <array>
#include <cstdint>
#include <string_view>

namespace hetsweep::science {

struct Metrics {
  double true_signal = 0;      // |P X P|_F, P the projector on the invariant subspace
  double spurious_signal = 0;  // |Q X Q|_F, Q the projector on the spurious subspace
  double err_invariant = 0;    // |X - A*|_F
  double err_pooled = 0;       // |X - (A* + mean_e A^(e))|_F
  double loss = 0;             // minibatch loss; the population loss for the *_gd algorithms
  friend bool operator==(const Metrics&, const Metrics&) = default;
};

inline constexpr std::array<std::string_view, 5> metric_names{"true_signal", "spurious_signal", "err_invariant",
                                                              "err_pooled", "loss"};
inline constexpr std::array<double Metrics::*, 5> metric_fields{
    &Metrics::true_signal, &Metrics::spurious_signal, &Metrics::err_invariant, &Metrics::err_pooled, &Metrics::loss};

struct Record {
  std::int64_t step = 0;
  Metrics metrics;
  friend bool operator==(const Record&, const Record&) = default;
};

}  // namespace hetsweep::science
