#include "science/model.hpp"

#include <Eigen/QR>
#include <cmath>
#include <limits>

#include "science/isa.hpp"

namespace hetsweep::science {

void SymmetricPacking::pack(const Matrix& a, Eigen::Ref<Vector> out) const {
  Eigen::Index n = 0;
  for (Eigen::Index j = 0; j < dim_; ++j) out[n++] = a(j, j);
  for (Eigen::Index j = 0; j < dim_; ++j) {
    for (Eigen::Index i = j + 1; i < dim_; ++i) out[n++] = M_SQRT2 * a(i, j);
  }
}

void SymmetricPacking::pack_difference(const Matrix& a, const Matrix& b, Eigen::Ref<Vector> out) const {
  Eigen::Index n = 0;
  for (Eigen::Index j = 0; j < dim_; ++j) out[n++] = a(j, j) - b(j, j);
  for (Eigen::Index j = 0; j < dim_; ++j) {
    for (Eigen::Index i = j + 1; i < dim_; ++i) out[n++] = M_SQRT2 * (a(i, j) - b(i, j));
  }
}

void SymmetricPacking::unpack(const Eigen::Ref<const Vector>& v, Matrix& out) const {
  out.resize(dim_, dim_);
  Eigen::Index n = 0;
  for (Eigen::Index j = 0; j < dim_; ++j) out(j, j) = v[n++];
  for (Eigen::Index j = 0; j < dim_; ++j) {
    for (Eigen::Index i = j + 1; i < dim_; ++i) out(i, j) = out(j, i) = M_SQRT1_2 * v[n++];
  }
}

std::vector<double> spurious_values(const Params& p) {
  const auto k = static_cast<std::size_t>(p.environments);
  std::vector<double> s(k, p.spurious_mean);
  for (std::size_t e = 0; k > 1 && e < k; ++e) {
    s[e] =
        p.spurious_mean - p.heterogeneity + 2.0 * p.heterogeneity * static_cast<double>(e) / static_cast<double>(k - 1);
  }
  return s;
}

namespace {

// A Haar-distributed orthogonal matrix: QR of a Gaussian matrix with R's diagonal made positive (Mezzadri 2007).
Matrix haar_orthogonal(Eigen::Index d, const RandomStreams& streams) {
  Matrix g(d, d);
  streams.normals(Purpose::basis, 0, {g.data(), static_cast<std::size_t>(g.size())});
  Eigen::HouseholderQR<Matrix> qr(g);
  Matrix q = qr.householderQ();
  const Matrix& r = qr.matrixQR();
  for (Eigen::Index j = 0; j < d; ++j) {
    if (r(j, j) < 0) q.col(j) = -q.col(j);
  }
  return q;
}

}  // namespace

Model::Model(const Params& p, const RandomStreams& streams)
    : dim_(p.dim),
      width_(p.effective_width()),
      invariant_rank_(p.invariant_rank),
      spurious_rank_(p.spurious_rank),
      init_scale_(p.init_scale),
      axis_basis_(p.basis == Basis::axis),
      spurious_values_(science::spurious_values(p)) {
  fixed_product_blocking();  // before the first product of the run
  basis_ = axis_basis_ ? Matrix::Identity(dim_, dim_) : haar_orthogonal(dim_, streams);
  const auto invariant = basis_.leftCols(invariant_rank_);
  const auto spurious = basis_.middleCols(invariant_rank_, spurious_rank_);
  invariant_target_ = invariant * invariant.transpose();
  const Matrix spurious_projector = spurious * spurious.transpose();
  double mean_value = 0;
  for (double s : spurious_values_) {
    environment_targets_.push_back(invariant_target_ + s * spurious_projector);
    mean_value += s / static_cast<double>(spurious_values_.size());
  }
  pooled_target_ = invariant_target_ + mean_value * spurious_projector;
}

Matrix Model::initial_factor(const RandomStreams& streams) const {
  if (width_ == dim_) return init_scale_ * Matrix::Identity(dim_, dim_);
  Matrix g(dim_, width_);
  streams.normals(Purpose::initialization, 0, {g.data(), static_cast<std::size_t>(g.size())});
  return (init_scale_ / std::sqrt(static_cast<double>(width_))) * g;
}

namespace {

// ||B||_F. Eigen's norm() sums the squared entries, which underflow below ~1e-154, so a block of tiny
// entries would read 0 (or lose digits). Below 1e-146 no entry's square is normal, or one that is not
// weighs under epsilon^2 against the sum; there stableNorm(), which scales before squaring, is exact to a few
// ulps. Above it the plain sum stays, so every ordinary value is bit-identical to earlier builds.
template <class Block>
double frobenius_norm(const Block& block) {
  static const double plain_sum_is_exact_above =
      std::sqrt(std::numeric_limits<double>::min() / std::numeric_limits<double>::epsilon());
  const double norm = block.norm();
  return norm < plain_sum_is_exact_above ? block.stableNorm() : norm;
}

}  // namespace

Metrics Model::metrics(const Matrix& u, double loss) const {
  const Matrix x = u * u.transpose();
  return metrics_of_product(x, loss);
}

Metrics Model::metrics_of_product(const Matrix& x, double loss) const {
  // In the basis V, the invariant and spurious subspaces are leading coordinate blocks.
  const Matrix in_basis = axis_basis_ ? x : Matrix(basis_.transpose() * x * basis_);
  Metrics m;
  m.true_signal = frobenius_norm(in_basis.topLeftCorner(invariant_rank_, invariant_rank_));
  m.spurious_signal = frobenius_norm(in_basis.block(invariant_rank_, invariant_rank_, spurious_rank_, spurious_rank_));
  m.err_invariant = frobenius_norm(x - invariant_target_);
  m.err_pooled = frobenius_norm(x - pooled_target_);
  m.loss = loss;
  return m;
}

}  // namespace hetsweep::science
