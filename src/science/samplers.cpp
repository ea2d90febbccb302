#include "science/samplers.hpp"

#include <algorithm>
#include <cmath>

namespace hetsweep::science {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using IndexVector = Eigen::Matrix<std::int32_t, Eigen::Dynamic, 1>;

template <typename Dense>
auto span_of(Dense& m) {
  return std::span<typename Dense::Scalar>(m.data(), static_cast<std::size_t>(m.size()));
}

// What every sampled step shares: which environment each sample comes from, and the observation noise.
// Every buffer is sized here, so a step allocates nothing.
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
  // Draws the step's observation noise sigma * eps_i, before the residuals it enters are computed.
  void draw_noise(std::int64_t step) {
    if (params_.noise == 0) return;
    streams_.normals(Purpose::noise, static_cast<std::uint64_t>(step), span_of(noise_));
    noise_ *= params_.noise;
  }
  // Subtracts the noise of samples first.. from their residuals r = <A, X - X_e> - sigma * eps.
  void subtract_noise(Eigen::Index first, Eigen::Ref<Vector> residuals) const {
    if (params_.noise != 0) residuals -= noise_.segment(first, residuals.size());
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
      : model_(model), params_(p), streams_(streams), x_(p.dim, p.dim), d_(p.dim, p.dim) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    x_.noalias() = u * u.transpose();
    double loss = 0;
    if (params_.algorithm == Algorithm::hetero_gd) {
      const int e = hetero_environment(params_, streams_, step);
      d_ = x_ - model_.environment_target(e);
      loss = population_loss(d_);
    } else {
      for (int e = 0; e < model_.environments(); ++e) {
        d_ = x_ - model_.environment_target(e);
        loss += population_loss(d_);
      }
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
  [[nodiscard]] const Matrix* product() const override { return &x_; }

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

// The step's differences D_e = X - X_e (X = U U^T), packed as columns v(D_e): environment e's alone
// (hetero), or every environment's when e < 0 (pooled). What both Gaussian samplers start a step with.
class PackedDifferences {
 public:
  explicit PackedDifferences(const Model& model)
      : model_(model),
        packing_(model.dim()),
        columns_(packing_.size(), model.environments()),
        x_(model.dim(), model.dim()) {}

  // Packs the columns of the environments from `first` on, `count` of them (see environments()).
  void update(const Matrix& u, int first, int count) {
    x_.noalias() = u * u.transpose();
    for (int k = first; k < first + count; ++k)
      packing_.pack_difference(x_, model_.environment_target(k), columns_.col(k));
  }
  // The columns a step with environment e (or e < 0: all) uses: the first and how many.
  [[nodiscard]] std::pair<int, int> environments(int e) const {
    return e >= 0 ? std::pair{e, 1} : std::pair{0, model_.environments()};
  }
  [[nodiscard]] const SymmetricPacking& packing() const { return packing_; }
  [[nodiscard]] const Matrix& columns() const { return columns_; }
  [[nodiscard]] const Matrix& product() const { return x_; }  // X = U U^T of the last update

 private:
  const Model& model_;
  SymmetricPacking packing_;
  Matrix columns_;
  Matrix x_;
};

// Gaussian sensing, every sensing matrix drawn: in packed form each A_i is a vector z_i of iid N(0,1), so
// r = Z v(D) and v(sum_i r_i A_i) = Z^T r. Z is drawn a block of rows at a time, each block used for both
// products while it is in the first-level cache, so Z is never stored whole.
class MaterializedGaussian final : public StepGradient {
 public:
  MaterializedGaussian(const Model& model, const Params& p, const RandomStreams& streams)
      : streams_(streams),
        batch_(p, streams),
        differences_(model),
        block_rows_(std::clamp<Eigen::Index>(block_entries / packed_size(), 1, p.batch_size)),
        z_(block_rows_, packed_size()),
        residuals_(p.batch_size),
        packed_sum_(packed_size()),
        sum_(p.dim, p.dim) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    const int e = batch_.draw_environments(step);
    const auto [first_environment, environments] = differences_.environments(e);
    differences_.update(u, first_environment, environments);
    const Matrix& columns = differences_.columns();
    batch_.draw_noise(step);
    auto sensing = streams_.variates(Purpose::sensing, static_cast<std::uint64_t>(step));
    packed_sum_.setZero();
    const auto m = batch_.size();
    for (Eigen::Index first = 0; first < m; first += block_rows_) {
      const auto rows = std::min(block_rows_, m - first);
      const auto z = z_.topRows(rows);
      sensing.fill_normals({z_.data(), static_cast<std::size_t>(rows * z_.cols())});
      auto r = residuals_.segment(first, rows);
      if (e >= 0) {
        r.noalias() = z * columns.col(e);
      } else {
        const auto& env = batch_.sample_environment();
        for (Eigen::Index i = 0; i < rows; ++i) r[i] = z.row(i).dot(columns.col(env[first + i]));
      }
      batch_.subtract_noise(first, r);
      packed_sum_.noalias() += z.transpose() * r;
    }
    differences_.packing().unpack(packed_sum_, sum_);
    const auto md = static_cast<double>(m);
    gradient.noalias() = (2.0 / md) * sum_ * u;
    return residuals_.squaredNorm() / (2.0 * md);
  }
  [[nodiscard]] const Matrix* product() const override { return &differences_.product(); }

 private:
  // A block of Z of about 32 KiB: it fits the first-level cache between its two products.
  static constexpr Eigen::Index block_entries = 4096;

  [[nodiscard]] Eigen::Index packed_size() const { return differences_.packing().size(); }

  const RandomStreams& streams_;
  Batch batch_;
  PackedDifferences differences_;
  Eigen::Index block_rows_;
  RowMatrix z_;
  Vector residuals_, packed_sum_;
  Matrix sum_;
};

// Gaussian sensing without drawing any A_i (exact in distribution). With b_1..b_J an orthonormal basis B of
// the span of the packed differences v(D_e) = B c_e, z_i = B g_i + z_i_perp, and r_i = a_e . h_i for
// h_i = (g_i, eps_i) ~ N(0, I) and a_e = (c_e, -sigma). So the step needs, per environment e, only the Gram
// matrix W_e of its n_e vectors h_i, which is Wishart(n_e, I): sum_i r_i g_i is the g-part of sum_e W_e a_e
// and |r|^2 = sum_e a_e^T W_e a_e. Given r, the complement part sum_i r_i z_i_perp has the law of |r| P_perp(z)
// for one fresh standard Gaussian z. A step draws O(K^3 + d^2) numbers whatever the batch size m.
class ExactGaussian final : public StepGradient {
 public:
  ExactGaussian(const Model& model, const Params& p, const RandomStreams& streams)
      : params_(p),
        streams_(streams),
        noise_(p.noise),
        differences_(model),
        basis_(packed_size(), model.environments()),
        weights_(model.environments() + 1, model.environments()),
        samples_(model.environments()),
        factor_(model.environments() + 1, model.environments() + 1),
        projected_(model.environments() + 1),
        complement_(packed_size()),
        packed_sum_(packed_size()),
        in_basis_(model.environments()),
        residual_sum_(model.environments()),
        sum_(p.dim, p.dim) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    const int e = count_samples(step);
    const auto [first, count] = differences_.environments(e);
    differences_.update(u, first, count);
    const Eigen::Index rank = orthonormalize(first, count);
    const auto basis = basis_.leftCols(rank);
    // Columns first.. of a_e = (c_e, -sigma), the last entry only with noise.
    const Eigen::Index size = rank + (noise_ != 0 ? 1 : 0);
    auto weights = weights_.topRows(size);
    weights.block(0, first, rank, count).noalias() =
        basis.transpose() * differences_.columns().middleCols(first, count);
    if (noise_ != 0) weights.row(rank).segment(first, count).setConstant(-noise_);

    // Words for a Gram factor: `size` chi-squares (about two each) and size (size - 1) / 2 normals.
    auto sensing = streams_.variates(Purpose::sensing, static_cast<std::uint64_t>(step),
                                     static_cast<std::size_t>(count * size * (size + 3) / 2 + 2));
    residual_sum_.head(rank).setZero();  // sum_i r_i g_i
    double squared_residuals = 0;        // |r|^2
    for (int k = first; k < first + count && size > 0; ++k) {
      if (samples_[k] == 0) continue;
      // W_e = F F^T, so |r_e|^2 = |F^T a_e|^2 (never negative, whatever the rounding) and W_e a_e = F (F^T a_e).
      const auto factor = draw_gram_factor(sensing, samples_[k], size);
      auto projected = projected_.head(factor.cols());
      projected.noalias() = factor.transpose() * weights.col(k);
      squared_residuals += projected.squaredNorm();
      residual_sum_.head(rank).noalias() += factor.topRows(rank) * projected;
    }

    streams_.normals(Purpose::complement, static_cast<std::uint64_t>(step), span_of(complement_));
    project_out(rank, complement_);
    packed_sum_.noalias() = std::sqrt(squared_residuals) * complement_;
    packed_sum_.noalias() += basis * residual_sum_.head(rank);
    differences_.packing().unpack(packed_sum_, sum_);
    const auto md = static_cast<double>(params_.batch_size);
    gradient.noalias() = (2.0 / md) * sum_ * u;
    return squared_residuals / (2.0 * md);
  }
  [[nodiscard]] const Matrix* product() const override { return &differences_.product(); }

 private:
  // n_e, the samples from each environment: all m from the step's one (hetero, whose environment it
  // returns), or (pooled, returns -1) the counts of the environments the materialized sampler draws per sample,
  // counted without storing them.
  int count_samples(std::int64_t step) {
    if (params_.algorithm != Algorithm::pooled) {
      const int e = hetero_environment(params_, streams_, step);
      samples_[e] = params_.batch_size;
      return e;
    }
    streams_.count_uniform_indices(Purpose::sample_environment, static_cast<std::uint64_t>(step), params_.batch_size,
                                   {samples_.data(), static_cast<std::size_t>(samples_.size())});
    return -1;
  }

  // F with F F^T ~ Wishart(n, I) of dimension `size`: Bartlett's lower triangular L (L_ii^2 ~ chi-square(n - i),
  // L_ij ~ N(0, 1) below the diagonal) when n >= size, else the n drawn N(0, I) vectors as columns.
  Eigen::Block<Matrix> draw_gram_factor(Variates& draws, Eigen::Index n, Eigen::Index size) {
    if (n < size) {
      auto vectors = factor_.topLeftCorner(size, n);
      for (Eigen::Index j = 0; j < n; ++j) draws.fill_normals({&vectors(0, j), static_cast<std::size_t>(size)});
      return vectors;
    }
    auto lower = factor_.topLeftCorner(size, size);
    lower.setZero();
    for (Eigen::Index i = 0; i < size; ++i) {
      lower(i, i) = std::sqrt(draws.chi_square(n - i));
      for (Eigen::Index j = 0; j < i; ++j) lower(i, j) = draws.normal();
    }
    return lower;
  }

  // Removes from v its component in the span of the first `rank` basis vectors.
  void project_out(Eigen::Index rank, Eigen::Ref<Vector> v) {
    const auto basis = basis_.leftCols(rank);
    in_basis_.head(rank).noalias() = basis.transpose() * v;
    v.noalias() -= basis * in_basis_.head(rank);
  }

  // Gram-Schmidt (twice, for stability) of the difference columns first..first+count-1 into basis_;
  // returns the rank. Columns that are (numerically) in the span of earlier ones are dropped.
  Eigen::Index orthonormalize(int first, int count) {
    Eigen::Index rank = 0;
    for (int k = first; k < first + count; ++k) {
      const double original = differences_.columns().col(k).norm();
      auto v = basis_.col(rank);
      v = differences_.columns().col(k);
      project_out(rank, v);
      project_out(rank, v);
      const double remaining = v.norm();
      if (remaining > 1e-12 * original && remaining > 0) {
        v /= remaining;
        ++rank;
      }
    }
    return rank;
  }

  [[nodiscard]] Eigen::Index packed_size() const { return differences_.packing().size(); }

  const Params& params_;
  const RandomStreams& streams_;
  double noise_;
  PackedDifferences differences_;
  Matrix basis_;
  Matrix weights_;  // column e: a_e
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> samples_;
  Matrix factor_;
  Vector projected_;
  Vector complement_, packed_sum_, in_basis_, residual_sum_;
  Matrix sum_;
};

// Rank-one sensing A = x x^T (the quadratic two-layer network f(x) = |U^T x|^2), every x drawn:
// predictions are the squared row norms of Z = Xs U, and sum_i r_i A_i U = Xs^T diag(r) Z. Both products are
// GEMMs over a block of rows at a time, so a block stays in cache between them and Eigen's packing buffers
// stay on the stack.
class MaterializedRankOne final : public StepGradient {
 public:
  MaterializedRankOne(const Model& model, const Params& p, const RandomStreams& streams)
      : model_(model),
        streams_(streams),
        batch_(p, streams),
        signal_rank_(p.invariant_rank + p.spurious_rank),
        invariant_rank_(p.invariant_rank),
        block_rows_(std::min<Eigen::Index>(std::max(block_entries / p.dim, min_block_rows), p.batch_size)),
        samples_(block_rows_, p.dim),
        outputs_(block_rows_, p.effective_width()),
        coordinates_(model.axis_basis() ? 0 : block_rows_, signal_rank_),
        residuals_(p.batch_size) {}

  double evaluate(const Matrix& u, std::int64_t step, Matrix& gradient) override {
    const int e = batch_.draw_environments(step);
    batch_.draw_noise(step);
    auto sensing = streams_.variates(Purpose::sensing, static_cast<std::uint64_t>(step));
    gradient.setZero();
    const auto m = batch_.size();
    for (Eigen::Index first = 0; first < m; first += block_rows_) {
      const auto rows = std::min(block_rows_, m - first);
      const auto x = samples_.topRows(rows);
      sensing.fill_normals({samples_.data(), static_cast<std::size_t>(rows * samples_.cols())});
      auto z = outputs_.topRows(rows);
      z.noalias() = x * u;
      // The target's coordinates V^T x: on the axis basis, x's leading coordinates themselves.
      if (!model_.axis_basis()) coordinates_.topRows(rows).noalias() = x * model_.basis().leftCols(signal_rank_);
      auto r = residuals_.segment(first, rows);
      for (Eigen::Index i = 0; i < rows; ++i) {
        const int env = e >= 0 ? e : batch_.sample_environment()[first + i];
        const double target = model_.axis_basis() ? target_value(x.row(i).head(signal_rank_), env)
                                                  : target_value(coordinates_.row(i), env);
        r[i] = z.row(i).squaredNorm() - target;
      }
      batch_.subtract_noise(first, r);
      z.array().colwise() *= r.array();
      gradient.noalias() += x.transpose() * z;
    }
    const auto md = static_cast<double>(m);
    gradient *= 2.0 / md;
    return residuals_.squaredNorm() / (2.0 * md);
  }

 private:
  // Blocks of about 64 KiB of samples (their GEMMs' packed operands stay under Eigen's 128 KiB stack
  // limit up to d = 100), but never under 64 rows, below which the GEMMs lose their efficiency.
  static constexpr Eigen::Index block_entries = 8192, min_block_rows = 64;

  // <A_e, x x^T> from x's coordinates in the basis V: |invariant part|^2 + s_e |spurious part|^2.
  template <typename Row>
  [[nodiscard]] double target_value(const Row& coordinates, int env) const {
    return coordinates.head(invariant_rank_).squaredNorm() +
           model_.spurious_value(env) * coordinates.tail(signal_rank_ - invariant_rank_).squaredNorm();
  }

  const Model& model_;
  const RandomStreams& streams_;
  Batch batch_;
  Eigen::Index signal_rank_, invariant_rank_;
  Eigen::Index block_rows_;
  RowMatrix samples_, outputs_, coordinates_;
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

std::unique_ptr<StepGradient> make_step_gradient(const Model& model, const Params& p, const RandomStreams& streams) {
  if (p.algorithm == Algorithm::hetero_gd || p.algorithm == Algorithm::pooled_gd) {
    return std::make_unique<PopulationGradient>(model, p, streams);
  }
  if (p.sensing == Sensing::rank_one) return std::make_unique<MaterializedRankOne>(model, p, streams);
  if (p.effective_sampler() == Sampler::exact) return std::make_unique<ExactGaussian>(model, p, streams);
  return std::make_unique<MaterializedGaussian>(model, p, streams);
}

}  // namespace hetsweep::science
