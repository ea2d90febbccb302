#pragma once
// The multi-environment matrix sensing model: targets, basis, initialization and metrics.

#include <Eigen/Core>
#include <vector>

#include "science/metrics.hpp"
#include "science/params.hpp"
#include "science/random.hpp"

namespace hetsweep::science {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

// Symmetric d x d matrices as vectors of length d(d+1)/2: the diagonal, then sqrt(2) times each entry above
// it. The Frobenius inner product becomes the dot product, and the standard Gaussian on symmetric matrices,
// A = (B + B^T)/2 with B iid N(0,1), becomes a vector of iid N(0,1).
class SymmetricPacking {
 public:
  explicit SymmetricPacking(Eigen::Index dim) : dim_(dim) {}
  [[nodiscard]] Eigen::Index size() const { return dim_ * (dim_ + 1) / 2; }
  void pack(const Matrix& a, Eigen::Ref<Vector> out) const;
  // pack(a - b), without the difference as a matrix (the same values, one pass fewer).
  void pack_difference(const Matrix& a, const Matrix& b, Eigen::Ref<Vector> out) const;
  void unpack(const Eigen::Ref<const Vector>& v, Matrix& out) const;

 private:
  Eigen::Index dim_;
};

class Model {
 public:
  Model(const Params& params, const RandomStreams& streams);

  [[nodiscard]] Eigen::Index dim() const { return dim_; }
  [[nodiscard]] int environments() const { return static_cast<int>(environment_targets_.size()); }
  // s_e: the spurious eigenvalue of environment e, evenly spaced over [mu - M, mu + M].
  [[nodiscard]] double spurious_value(int e) const { return spurious_values_[static_cast<std::size_t>(e)]; }
  // V: columns 0..r-1 span the invariant subspace, r..r+rs-1 the spurious one. Identity for `basis: axis`.
  [[nodiscard]] const Matrix& basis() const { return basis_; }
  [[nodiscard]] bool axis_basis() const { return axis_basis_; }
  [[nodiscard]] const Matrix& invariant_target() const { return invariant_target_; }  // A*
  [[nodiscard]] const Matrix& environment_target(int e) const {                       // A* + A^(e)
    return environment_targets_[static_cast<std::size_t>(e)];
  }
  [[nodiscard]] const Matrix& pooled_target() const { return pooled_target_; }  // A* + mean_e A^(e)

  // U0: alpha I when width = dim, else alpha G / sqrt(width) with G Gaussian from the run's streams.
  [[nodiscard]] Matrix initial_factor(const RandomStreams& streams) const;
  [[nodiscard]] Metrics metrics(const Matrix& u, double loss) const;
  // The same from X = U U^T, computed as metrics() computes it (u * u.transpose()).
  [[nodiscard]] Metrics metrics_of_product(const Matrix& x, double loss) const;

 private:
  Eigen::Index dim_, width_, invariant_rank_, spurious_rank_;
  double init_scale_;
  bool axis_basis_;
  std::vector<double> spurious_values_;
  Matrix basis_;
  Matrix invariant_target_;
  std::vector<Matrix> environment_targets_;
  Matrix pooled_target_;
};

// The evenly spaced spurious eigenvalues s_0..s_{K-1} over [mean - heterogeneity, mean + heterogeneity].
std::vector<double> spurious_values(const Params& params);

}  // namespace hetsweep::science
