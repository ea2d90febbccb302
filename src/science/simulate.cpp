#include "science/simulate.hpp"

#include <limits>

#include "science/model.hpp"
#include "science/random.hpp"
#include "science/records.hpp"
#include "science/samplers.hpp"

namespace hetsweep::science {

RunResult simulate(const Params& params, std::uint64_t seed, const StopCheck& stop) {
  const RandomStreams streams(seed);
  const Model model(params, streams);
  const auto step_gradient = make_step_gradient(model, params, streams);
  Matrix u = model.initial_factor(streams);
  Matrix gradient(u.rows(), u.cols());

  RunResult result;
  result.records.reserve(static_cast<std::size_t>(record_count(params)));
  for (std::int64_t t = 0;; ++t) {
    if (stop && t > 0 && t < params.steps && stop()) {
      result.status = RunStatus::interrupted;
      result.steps_done = t;
      result.final_metrics = model.metrics(u, std::numeric_limits<double>::quiet_NaN());
      return result;
    }
    // The loss recorded at step t is the loss of step t's batch at U_t, the one the update descends.
    const double loss = step_gradient->evaluate(u, t, gradient);
    if (is_record_step(params, t)) {
      // The step computed X = U_t U_t^T already (as metrics() would): its metrics reuse it.
      const Matrix* x = step_gradient->product();
      result.records.push_back({t, x != nullptr ? model.metrics_of_product(*x, loss) : model.metrics(u, loss)});
    }
    if (t == params.steps) {
      result.steps_done = t;
      result.final_metrics = result.records.back().metrics;
      return result;
    }
    u.noalias() -= params.step_size * gradient;
    // A non-finite entry makes the norm NaN or infinite, so one pass over U checks both ways to diverge.
    if (!(u.norm() <= params.divergence_threshold)) {
      result.status = RunStatus::diverged;
      result.steps_done = t + 1;
      result.final_metrics = model.metrics(u, step_gradient->evaluate(u, t + 1, gradient));
      if (is_record_step(params, t + 1)) result.records.push_back({t + 1, result.final_metrics});
      return result;
    }
  }
}

}  // namespace hetsweep::science
