#include "science/samplers.hpp"

#include <cmath>
#include <vector>

namespace hetsweep::science {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using IndexVector = Eigen::Matrix<std::int32_t, Eigen::Dynamic, 1>;

template <typename Dense>
auto span_of(Dense& m) {
  return std::span<typename Dense::Scalar>(m.data(), static_cast<std::size_t>(m.size()));
}

// What every sampled step shares: which environment each sample comes from, and the observation noise.
class Batch {
 public:
  Batch(const Params& p, const RandomStreams& streams)
      : params_(p), streams_(streams), m_(p.batch_size), environments_(m_), noise_(m_) {}

  [[nodiscard]] Eigen::Index size() const { return m_; }
  [[nodiscard]] bool pooled() const { return params_.algorithm == Algorithm::pooled; }
  // hetero: the step's single environment. pooled: fills sample_environment() and returns -1.
  int draw_environments(std::int64_t step) {
    if (!pooled()) return hetero_environment(params_, streams_, step);
    streams_.uniform_indices(Purpose::sample_environment, static_cast<std::uint64_t>(step),
                             static_cast<std::uint32_t>(params_.environments), span_of(environments_));
    return -1;
  }
  [[nodiscard]] const IndexVector& sample_environment() const { return environments_; }
  // Subtracts sigma * eps from the residuals r = <A, X - X_e> - sigma * eps.
  void subtract_noise(std::int64_t step, Vector& residuals) {
    if (params_.noise == 0) return;
    streams_.normals(Purpose::noise, static_cast<std::uint64_t>(step), span_of(noise_));
    residuals.noalias() -= params_.noise * noise_;
  }

 private:
  const Params& params_;
  const RandomStreams& streams_;
  Eigen::Index m_;
  IndexVector environments_;
  Vector noise_;
};

// Infinite batches: the population gradient of the step's environment (hetero_gd) or of the mixture
// (pooled_gd). For Gaussian sensing E[<A,D> A] = D; for A = x x^T, E[(x^T D x) x x^T] = 2D + tr(D) I.
class PopulationGradient final : public StepGradient {
 public:
  PopulationGradient(const Model& model, const Params& p, const RandomStreams& streams)
      : model_(model), params_(p), streams_(streams) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    x_.noalias() = u * u.transpose();
    double loss = 0;
    if (params_.algorithm == Algorithm::hetero_gd) {
      const int e = hetero_environment(params_, streams_, step);
      d_ = x_ - model_.environment_target(e);
      loss = population_loss(d_);
    } else {
      for (int e = 0; e < model_.environments(); ++e) loss += population_loss(x_ - model_.environment_target(e));
      loss /= model_.environments();
      d_ = x_ - model_.pooled_target();
    }
    if (params_.sensing == Sensing::rank_one) {
      const double trace = d_.trace();
      d_ *= 2.0;
      d_.diagonal().array() += trace;
    }
    gradient.noalias() = 2.0 * d_ * u;
    return loss;
  }

 private:
  // The expected loss 1/2 E[<A, D>^2] without noise: |D|^2/2 (Gaussian), (2|D|^2 + tr(D)^2)/2 (rank one).
  [[nodiscard]] double population_loss(const Matrix& d) const {
    if (params_.sensing == Sensing::rank_one) return 0.5 * (2.0 * d.squaredNorm() + d.trace() * d.trace());
    return 0.5 * d.squaredNorm();
  }

  const Model& model_;
  const Params& params_;
  const RandomStreams& streams_;
  Matrix x_, d_;
};

// Gaussian sensing, every sensing matrix drawn: in packed form each A_i is a vector z_i of iid N(0,1), so
// r = Z v(D) and v(sum_i r_i A_i) = Z^T r.
class MaterializedGaussian final : public StepGradient {
 public:
  MaterializedGaussian(const Model& model, const Params& p, const RandomStreams& streams)
      : model_(model),
        streams_(streams),
        batch_(p, streams),
        packing_(model.dim()),
        z_(p.batch_size, packing_.size()),
        differences_(packing_.size(), model.environments()),
        per_environment_(p.batch_size, model.environments()),
        residuals_(p.batch_size),
        packed_sum_(packing_.size()) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    x_.noalias() = u * u.transpose();
    const int e = batch_.draw_environments(step);
    streams_.normals(Purpose::sensing, static_cast<std::uint64_t>(step), span_of(z_));
    if (e >= 0) {
      pack_difference(e);
      residuals_.noalias() = z_ * differences_.col(e);
    } else {
      for (int k = 0; k < model_.environments(); ++k) pack_difference(k);
      per_environment_.noalias() = z_ * differences_;
      const auto& env = batch_.sample_environment();
      for (Eigen::Index i = 0; i < batch_.size(); ++i) residuals_[i] = per_environment_(i, env[i]);
    }
    batch_.subtract_noise(step, residuals_);
    packed_sum_.noalias() = z_.transpose() * residuals_;
    packing_.unpack(packed_sum_, sum_);
    const auto m = static_cast<double>(batch_.size());
    gradient.noalias() = (2.0 / m) * sum_ * u;
    return residuals_.squaredNorm() / (2.0 * m);
  }

 private:
  void pack_difference(int e) {
    diff_ = x_ - model_.environment_target(e);
    packing_.pack(diff_, differences_.col(e));
  }

  const Model& model_;
  const RandomStreams& streams_;
  Batch batch_;
  SymmetricPacking packing_;
  RowMatrix z_;
  Matrix differences_, per_environment_;
  Vector residuals_, packed_sum_;
  Matrix x_, diff_, sum_;
};

// Gaussian sensing without drawing any A_i (exact in distribution). With b_1..b_J an orthonormal basis of
// the span of the packed differences v(D_e), z_i = sum_j g_ij b_j + z_i_perp, so r_i = sum_j g_ij <b_j,
// v(D_e_i)> - sigma eps_i, and given r the complement part sum_i r_i z_i_perp has the law of |r| P_perp(z)
// for one fresh standard Gaussian z. Draws m*J + m + d(d+1)/2 normals per step instead of m*d(d+1)/2.
class ExactGaussian final : public StepGradient {
 public:
  ExactGaussian(const Model& model, const Params& p, const RandomStreams& streams)
      : model_(model),
        streams_(streams),
        batch_(p, streams),
        packing_(model.dim()),
        differences_(packing_.size(), model.environments()),
        basis_(packing_.size(), model.environments()),
        coordinates_(model.environments(), model.environments()),
        residuals_(p.batch_size),
        complement_(packing_.size()),
        packed_sum_(packing_.size()) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    x_.noalias() = u * u.transpose();
    const int e = batch_.draw_environments(step);
    const int first = e >= 0 ? e : 0;
    const int count = e >= 0 ? 1 : model_.environments();
    for (int k = first; k < first + count; ++k) {
      diff_ = x_ - model_.environment_target(k);
      packing_.pack(diff_, differences_.col(k));
    }
    const Eigen::Index rank = orthonormalize(first, count);
    const auto basis = basis_.leftCols(rank);
    coordinates_.topRows(rank).noalias() = basis.transpose() * differences_;

    const auto m = batch_.size();
    projections_.resize(m, rank);
    streams_.normals(Purpose::sensing, static_cast<std::uint64_t>(step), span_of(projections_));
    if (e >= 0) {
      residuals_.noalias() = projections_ * coordinates_.col(e).head(rank);
    } else {
      const auto& env = batch_.sample_environment();
      for (Eigen::Index i = 0; i < m; ++i) {
        residuals_[i] = projections_.row(i).dot(coordinates_.col(env[i]).head(rank));
      }
    }
    batch_.subtract_noise(step, residuals_);

    streams_.normals(Purpose::complement, static_cast<std::uint64_t>(step), span_of(complement_));
    complement_.noalias() -= basis * (basis.transpose() * complement_);
    packed_sum_.noalias() = residuals_.norm() * complement_;
    packed_sum_.noalias() += basis * (projections_.transpose() * residuals_);
    packing_.unpack(packed_sum_, sum_);
    const auto md = static_cast<double>(m);
    gradient.noalias() = (2.0 / md) * sum_ * u;
    return residuals_.squaredNorm() / (2.0 * md);
  }

 private:
  // Gram-Schmidt (twice, for stability) of differences_ columns first..first+count-1 into basis_;
  // returns the rank. Columns that are (numerically) in the span of earlier ones are dropped.
  Eigen::Index orthonormalize(int first, int count) {
    Eigen::Index rank = 0;
    for (int k = first; k < first + count; ++k) {
      const double original = differences_.col(k).norm();
      Vector v = differences_.col(k);
      for (int pass = 0; pass < 2; ++pass) v -= basis_.leftCols(rank) * (basis_.leftCols(rank).transpose() * v);
      const double remaining = v.norm();
      if (remaining > 1e-12 * original && remaining > 0) basis_.col(rank++) = v / remaining;
    }
    return rank;
  }

  const Model& model_;
  const RandomStreams& streams_;
  Batch batch_;
  SymmetricPacking packing_;
  Matrix differences_, basis_, coordinates_;
  RowMatrix projections_;
  Vector residuals_, complement_, packed_sum_;
  Matrix x_, diff_, sum_;
};

// Rank-one sensing A = x x^T (the quadratic two-layer network f(x) = |U^T x|^2), every x drawn:
// predictions are the squared row norms of Z = Xs U, and sum_i r_i A_i U = Xs^T diag(r) Z.
class MaterializedRankOne final : public StepGradient {
 public:
  MaterializedRankOne(const Model& model, const Params& p, const RandomStreams& streams)
      : model_(model),
        streams_(streams),
        batch_(p, streams),
        signal_rank_(p.invariant_rank + p.spurious_rank),
        invariant_rank_(p.invariant_rank),
        samples_(p.batch_size, p.dim),
        residuals_(p.batch_size) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    const int e = batch_.draw_environments(step);
    streams_.normals(Purpose::sensing, static_cast<std::uint64_t>(step), span_of(samples_));
    outputs_.noalias() = samples_ * u;
    if (model_.axis_basis()) {
      coordinates_ = samples_.leftCols(signal_rank_);
    } else {
      coordinates_.noalias() = samples_ * model_.basis().leftCols(signal_rank_);
    }
    const auto m = batch_.size();
    const auto spurious = signal_rank_ - invariant_rank_;
    for (Eigen::Index i = 0; i < m; ++i) {
      const int env = e >= 0 ? e : batch_.sample_environment()[i];
      const double target = coordinates_.row(i).head(invariant_rank_).squaredNorm() +
                            model_.spurious_value(env) * coordinates_.row(i).tail(spurious).squaredNorm();
      residuals_[i] = outputs_.row(i).squaredNorm() - target;
    }
    batch_.subtract_noise(step, residuals_);
    outputs_ = residuals_.asDiagonal() * outputs_;
    const auto md = static_cast<double>(m);
    gradient.noalias() = (2.0 / md) * samples_.transpose() * outputs_;
    return residuals_.squaredNorm() / (2.0 * md);
  }

 private:
  const Model& model_;
  const RandomStreams& streams_;
  Batch batch_;
  Eigen::Index signal_rank_, invariant_rank_;
  RowMatrix samples_;
  Matrix outputs_, coordinates_;
  Vector residuals_;
};

}  // namespace

int hetero_environment(const Params& p, const RandomStreams& streams, std::int64_t step) {
  if (p.schedule == Schedule::cyclic) return static_cast<int>(step % p.environments);
  std::int32_t e = 0;
  streams.uniform_indices(Purpose::schedule, static_cast<std::uint64_t>(step),
                          static_cast<std::uint32_t>(p.environments), {&e, 1});
  return e;
}

std::unique_ptr<StepGradient> make_step_gradient(const Model& model, const Params& p,
                                                 const RandomStreams& streams) {
  if (p.algorithm == Algorithm::hetero_gd || p.algorithm == Algorithm::pooled_gd) {
    return std::make_unique<PopulationGradient>(model, p, streams);
  }
  if (p.sensing == Sensing::rank_one) return std::make_unique<MaterializedRankOne>(model, p, streams);
  if (p.effective_sampler() == Sampler::exact) return std::make_unique<ExactGaussian>(model, p, streams);
  return std::make_unique<MaterializedGaussian>(model, p, streams);
}

}  // namespace hetsweep::science
