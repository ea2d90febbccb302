#include "refine/refiner.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "refine/bisection.hpp"

namespace hetsweep::refine {

Refiner::Refiner(const spec::SweepSpec& spec, const ShardFilter& in_shard)
    : spec_(&spec), refine_(&spec.refine.value()) {
  const auto axis =
      std::find_if(spec.axes.begin(), spec.axes.end(), [&](const spec::Axis& a) { return a.name == refine_->axis; });
  if (axis == spec.axes.end()) throw std::invalid_argument(fmt::format("refine: {} is not a grid axis", refine_->axis));
  axis_ = static_cast<std::size_t>(axis - spec.axes.begin());
  parameter_ = science::find_parameter(refine_->axis);
  const auto metric = std::find(science::metric_names.begin(), science::metric_names.end(), refine_->metric);
  if (metric == science::metric_names.end())
    throw std::invalid_argument(fmt::format("refine: unknown metric {}", refine_->metric));
  metric_ = science::metric_fields[static_cast<std::size_t>(metric - science::metric_names.begin())];
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    if (a == axis_) continue;
    other_axes_.push_back(a);
    auto& index = other_index_.emplace_back();
    for (std::size_t i = 0; i < spec.axes[a].values.size(); ++i)
      index.emplace(spec.axes[a].values[i], static_cast<std::int64_t>(i));
    combination_count_ *= static_cast<std::int64_t>(spec.axes[a].values.size());
  }
  grid_values_ = axis->values;
  std::sort(grid_values_.begin(), grid_values_.end());
  in_shard_count_ = combination_count_;
  if (in_shard) {
    in_shard_.resize(static_cast<std::size_t>(combination_count_));
    in_shard_count_ = 0;
    for (std::int64_t c = 0; c < combination_count_; ++c) {
      const bool mine = in_shard(combination_seed(params_of(c, grid_values_.front())));
      in_shard_[static_cast<std::size_t>(c)] = mine;
      in_shard_count_ += mine ? 1 : 0;
    }
  }
}

std::uint64_t Refiner::combination_seed(const science::Params& params) const {
  science::Params at_default = params;
  parameter_->set(at_default, parameter_->get(science::Params{}));
  return spec::run_seed(spec_->seed, spec::run_key(at_default, 0));
}

std::optional<std::int64_t> Refiner::combination_of(const science::Params& params) const {
  std::int64_t index = 0;
  for (std::size_t o = 0; o < other_axes_.size(); ++o) {
    const auto& axis = spec_->axes[other_axes_[o]];
    const auto value = science::find_parameter(axis.name)->get(params);
    const auto found = other_index_[o].find(value);
    if (found == other_index_[o].end()) {
      throw std::invalid_argument(
          fmt::format("refine: a run with {} = {} is off the grid", axis.name, science::format_value(value)));
    }
    index = index * static_cast<std::int64_t>(axis.values.size()) + found->second;
  }
  if (!in_shard_.empty() && !in_shard_[static_cast<std::size_t>(index)]) return std::nullopt;
  return index;
}

std::vector<std::int64_t> Refiner::coordinates_of(std::int64_t index) const {
  std::vector<std::int64_t> coordinates(other_axes_.size());
  for (std::size_t o = other_axes_.size(); o-- > 0;) {
    const auto n = static_cast<std::int64_t>(spec_->axes[other_axes_[o]].values.size());
    coordinates[o] = index % n;
    index /= n;
  }
  return coordinates;
}

science::Params Refiner::params_of(std::int64_t index, const science::ParamValue& value) const {
  science::Params params = spec_->base;
  const auto coordinates = coordinates_of(index);
  for (std::size_t o = 0; o < other_axes_.size(); ++o) {
    const auto& axis = spec_->axes[other_axes_[o]];
    science::find_parameter(axis.name)->set(params, axis.values[static_cast<std::size_t>(coordinates[o])]);
  }
  parameter_->set(params, value);
  return params;
}

Refiner::Point& Refiner::point(Combination& combination, const science::ParamValue& value) {
  auto& p = combination.points[value];
  const auto replicates = static_cast<std::size_t>(spec_->replicates);
  if (p.results.empty()) {
    p.results.resize(replicates);
    p.known.resize(replicates, false);
  }
  return p;
}

void Refiner::note_existing(const science::Params& params, std::int64_t replicate) {
  const auto index = combination_of(params);
  if (!index) return;
  if (replicate < 0 || replicate >= spec_->replicates) {
    throw std::invalid_argument(fmt::format("refine: replicate {} is out of range", replicate));
  }
  point(combinations_[*index], parameter_->get(params)).known[static_cast<std::size_t>(replicate)] = true;
}

void Refiner::record(const science::Params& params, std::int64_t replicate, Outcome outcome,
                     const science::Metrics& final_metrics) {
  const auto index = combination_of(params);
  if (!index) return;
  if (replicate < 0 || replicate >= spec_->replicates) {
    throw std::invalid_argument(fmt::format("refine: replicate {} is out of range", replicate));
  }
  auto& combination = combinations_[*index];
  if (combination.grid.empty()) combination.grid.resize(grid_values_.size());
  const auto value = parameter_->get(params);
  const auto before = classify(combination, value);
  auto& p = point(combination, value);
  p.results[static_cast<std::size_t>(replicate)] = Finished{outcome, final_metrics.*metric_};
  p.known[static_cast<std::size_t>(replicate)] = true;
  // What refinement asks for depends on the points' sides and means alone: while this point's stay the
  // same (a replicate of it is still running), nothing changes.
  const auto after = classify(combination, value);
  if (after.side == before.side && after.mean == before.mean) return;
  if (const auto at = std::lower_bound(grid_values_.begin(), grid_values_.end(), value);
      at != grid_values_.end() && *at == value) {
    combination.grid[static_cast<std::size_t>(at - grid_values_.begin())] = Verdict{after.side, after.mean};
  }
  const bool was_resolved = combination.resolved;
  derive(*index, combination);
  resolved_count_ += static_cast<std::int64_t>(combination.resolved) - static_cast<std::int64_t>(was_resolved);
  if (!combination.wanted.empty()) fresh_.insert(*index);
}

Refiner::Classified Refiner::classify(const Combination& combination, const science::ParamValue& value) const {
  Classified c{value, Side::unknown, std::nullopt};
  const auto found = combination.points.find(value);
  if (found == combination.points.end()) return c;
  const auto& results = found->second.results;
  if (std::any_of(results.begin(), results.end(), [](const auto& r) { return !r.has_value(); })) return c;
  const bool failed =
      std::any_of(results.begin(), results.end(), [](const auto& r) { return r->outcome != Outcome::done; });
  if (failed) {
    switch (refine_->diverged_as) {
      case spec::Refine::Diverged::above:
        c.side = Side::above;
        break;
      case spec::Refine::Diverged::below:
        c.side = Side::below;
        break;
      case spec::Refine::Diverged::skip:
        c.side = Side::skipped;
        break;
    }
    return c;
  }
  // Summed in replicate order, so the mean is the same whatever order the results came in.
  double sum = 0;
  for (const auto& r : results) sum += r->metric;
  const double mean = sum / static_cast<double>(results.size());
  c.mean = mean;
  c.side = mean < refine_->threshold ? Side::below : Side::above;
  return c;
}

bool Refiner::is_grid_value(const science::ParamValue& value) const {
  return std::binary_search(grid_values_.begin(), grid_values_.end(), value);
}

void Refiner::derive(std::int64_t index, Combination& combination) {
  combination.wanted.clear();
  combination.crossings.clear();
  bool settled = true;
  const auto& grid = combination.grid;
  std::optional<std::size_t> previous;  // the last grid point not skipped
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto side = grid[i].side;
    if (side == Side::unknown) settled = false;
    if (side == Side::skipped) continue;
    if (previous && grid[*previous].side != Side::unknown && side != Side::unknown && grid[*previous].side != side) {
      settled = bisect(index, combination, {grid_values_[*previous], grid[*previous].side, grid[*previous].mean},
                       {grid_values_[i], side, grid[i].mean}) &&
                settled;
    }
    previous = i;
  }
  combination.resolved = settled;
}

// Halves [lo, hi] towards the threshold while the results allow; false while its next midpoint is unknown.
bool Refiner::bisect(std::int64_t index, Combination& combination, Classified lo, Classified hi) {
  Crossing crossing;
  crossing.combination = index;
  const auto coordinates = coordinates_of(index);
  for (std::size_t o = 0; o < other_axes_.size(); ++o) {
    crossing.where.push_back(spec_->axes[other_axes_[o]].values[static_cast<std::size_t>(coordinates[o])]);
  }
  crossing.direction = lo.side == Side::above ? Direction::down : Direction::up;
  crossing.resolved = true;
  while (!is_final(lo.value, hi.value, refine_->tolerance)) {
    const auto middle = *midpoint(lo.value, hi.value);
    // With skip, a bracket may span skipped grid values, and its midpoint may be one of them: no new run.
    if (!is_grid_value(middle)) {
      combination.wanted.push_back(middle);
      crossing.runs += spec_->replicates;
    }
    const auto m = classify(combination, middle);
    if (m.side == Side::unknown) {
      crossing.resolved = false;
      break;
    }
    if (m.side == Side::skipped) break;  // nothing tells which half holds the crossing: the bracket stays
    (m.side == lo.side ? lo : hi) = m;
  }
  crossing.lo = lo.value;
  crossing.hi = hi.value;
  const double low = as_double(lo.value), high = as_double(hi.value);
  if (lo.mean && hi.mean) {
    // The threshold lies between the two means (one below, one at or above), so the fraction is in [0, 1].
    const double fraction = (refine_->threshold - *lo.mean) / (*hi.mean - *lo.mean);
    crossing.estimate = std::clamp(low + fraction * (high - low), low, high);
  } else {
    crossing.estimate = low + (high - low) / 2;
  }
  combination.crossings.push_back(std::move(crossing));
  return combination.crossings.back().resolved;
}

std::vector<spec::RunPoint> Refiner::take_ready() {
  std::vector<spec::RunPoint> ready;
  for (const auto index : fresh_) {
    auto& combination = combinations_.at(index);
    const auto coordinates = coordinates_of(index);
    for (const auto& value : combination.wanted) {
      auto& p = point(combination, value);
      for (std::int64_t r = 0; r < spec_->replicates; ++r) {
        if (p.known[static_cast<std::size_t>(r)]) continue;
        p.known[static_cast<std::size_t>(r)] = true;
        spec::RunPoint run;
        run.params = params_of(index, value);
        run.replicate = r;
        run.coords.assign(spec_->axes.size(), -1);
        for (std::size_t o = 0; o < other_axes_.size(); ++o) run.coords[other_axes_[o]] = coordinates[o];
        run.key = spec::run_key(run.params, r);
        run.seed = spec::run_seed(spec_->seed, run.key);
        ready.push_back(std::move(run));
      }
    }
  }
  fresh_.clear();
  return ready;
}

std::vector<Crossing> Refiner::crossings() const {
  std::vector<std::int64_t> indices;
  for (const auto& [index, combination] : combinations_) {
    if (!combination.crossings.empty()) indices.push_back(index);
  }
  std::sort(indices.begin(), indices.end());
  std::vector<Crossing> all;
  for (const auto index : indices) {
    const auto& found = combinations_.at(index).crossings;
    all.insert(all.end(), found.begin(), found.end());
  }
  return all;
}

}  // namespace hetsweep::refine
