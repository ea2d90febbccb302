#pragma once
// The loss each training step descends, and its gradient, for every algorithm and sampler.

#include <cstdint>
#include <memory>

#include "science/model.hpp"
#include "science/params.hpp"
#include "science/random.hpp"

namespace hetsweep::science {

class StepGradient {
 public:
  virtual ~StepGradient() = default;
  // Writes into `gradient` (shaped like u) the gradient at u of step `step`'s loss, and returns that loss.
  // The minibatch of a step is a pure function of (seed, step): calling twice gives the same answer.
  virtual double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) = 0;
  // X = U U^T at the u of the last evaluate(), when the gradient needed it (else nullptr), so that the metrics
  // of that U need not compute it again.
  [[nodiscard]] virtual const Matrix* product() const { return nullptr; }
};

// The StepGradient for params.algorithm, params.sensing and params.effective_sampler().
std::unique_ptr<StepGradient> make_step_gradient(const Model& model, const Params& params,
                                                 const RandomStreams& streams);

// The environment hetero (and hetero_gd) trains on at `step`: step mod K (cyclic) or uniform (random).
int hetero_environment(const Params& params, const RandomStreams& streams, std::int64_t step);

}  // namespace hetsweep::science
