#include "refine/refiner.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "refine/bisection.hpp"

namespace hetsweep::refine {
namespace {

using science::ParamValue;
using spec::Refine;

// What a synthetic model says of a run: how it ended and its final metric.
struct Truth {
  Outcome outcome = Outcome::done;
  double metric = 0;
};
using Model = std::function<Truth(const science::Params&, std::int64_t replicate)>;

spec::SweepSpec spec_of(const std::string& grid, const std::string& refine, std::int64_t replicates = 2) {
  return spec::parse_spec(
      "seed: 11\nreplicates: " + std::to_string(replicates) + "\ngrid:\n" + grid + "refine: " + refine + "\n",
      "t.yaml");
}

void record(Refiner& refiner, const Model& model, const science::Params& params, std::int64_t replicate) {
  const auto truth = model(params, replicate);
  science::Metrics metrics;
  metrics.spurious_signal = truth.metric;
  refiner.record(params, replicate, truth.outcome, metrics);
}

struct Outcomes {
  std::vector<spec::RunPoint> refinement_runs;  // in the order handed out
  std::vector<Crossing> crossings;
  bool resolved = false;
};

// A sweep computed in order: the grid, then every batch of refinement runs as it is handed out.
Outcomes run_sweep(const spec::SweepSpec& spec, const Model& model, const Refiner::ShardFilter& filter = {}) {
  Refiner refiner(spec, filter);
  const spec::Grid grid(spec);
  for (std::int64_t i = 0; i < grid.size(); ++i) {
    const auto run = grid.point(i);
    record(refiner, model, run.params, run.replicate);
  }
  Outcomes out;
  for (auto ready = refiner.take_ready(); !ready.empty(); ready = refiner.take_ready()) {
    for (const auto& run : ready) {
      record(refiner, model, run.params, run.replicate);
      out.refinement_runs.push_back(run);
    }
  }
  out.crossings = refiner.crossings();
  out.resolved = refiner.resolved();
  return out;
}

std::set<std::uint64_t> keys(const std::vector<spec::RunPoint>& runs) {
  std::set<std::uint64_t> k;
  for (const auto& run : runs) k.insert(run.key);
  return k;
}

double as_real(const ParamValue& v) { return as_double(v); }

const std::string one_axis = "  heterogeneity: [0, 1]\n";
const std::string eleven_points = "  heterogeneity: {start: 0, stop: 10, num: 11}\n";

// The replicates differ, their mean is `value`.
Truth around(double value, std::int64_t replicate) { return {Outcome::done, value + (replicate == 0 ? -0.01 : 0.01)}; }

TEST(Refiner, BisectsOneCrossingUntilItIsNoWiderThanTheTolerance) {
  const auto spec =
      spec_of(one_axis, "{axis: heterogeneity, metric: spurious_signal, threshold: 0.35, tolerance: 0.02}");
  const auto out = run_sweep(spec, [](const auto& p, auto r) { return around(p.heterogeneity, r); });
  ASSERT_EQ(out.crossings.size(), 1u);
  const auto& c = out.crossings[0];
  EXPECT_EQ(c.direction, Direction::up);
  EXPECT_LT(as_real(c.lo), 0.35);
  EXPECT_GE(as_real(c.hi), 0.35);
  EXPECT_LE(as_real(c.hi) - as_real(c.lo), 0.02);
  EXPECT_GT(as_real(c.hi) - as_real(c.lo), 0.01);  // one halving fewer would have done
  EXPECT_NEAR(c.estimate, 0.35, 1e-12);            // the metric is linear in the axis
  EXPECT_EQ(c.runs, 6 * 2);                        // 1/64 <= 0.02 < 1/32, two replicates
  EXPECT_TRUE(c.resolved);
  EXPECT_EQ(out.refinement_runs.size(), 12u);
  EXPECT_TRUE(out.resolved);
}

TEST(Refiner, RefinesSeveralCrossingsOfOneCombinationIndependently) {
  const auto spec =
      spec_of(eleven_points, "{axis: heterogeneity, metric: spurious_signal, threshold: 6, tolerance: 0.01}");
  const auto out =
      run_sweep(spec, [](const auto& p, auto r) { return around((p.heterogeneity - 5) * (p.heterogeneity - 5), r); });
  ASSERT_EQ(out.crossings.size(), 2u);
  const double roots[2] = {5 - std::sqrt(6.0), 5 + std::sqrt(6.0)};
  for (int i = 0; i < 2; ++i) {
    const auto& c = out.crossings[static_cast<std::size_t>(i)];
    SCOPED_TRACE(i);
    EXPECT_EQ(c.direction, i == 0 ? Direction::down : Direction::up);
    EXPECT_LE(as_real(c.lo), roots[i]);
    EXPECT_GE(as_real(c.hi), roots[i]);
    EXPECT_LE(as_real(c.hi) - as_real(c.lo), 0.01);
    EXPECT_NEAR(c.estimate, roots[i], 0.01);
    EXPECT_EQ(c.runs, 7 * 2);  // from a bracket 1 wide: 1/128 <= 0.01
  }
  EXPECT_EQ(out.refinement_runs.size(), 28u);
}

// A mean exactly at the threshold counts as above: the crossing is bracketed from below up to that grid
// point, which stays its upper end, and interpolation puts the estimate exactly on it.
TEST(Refiner, ACrossingExactlyOnAGridPointKeepsItAsTheBracketsEnd) {
  const auto spec = spec_of("  heterogeneity: [0, 1, 2, 3, 4]\n",
                            "{axis: heterogeneity, metric: spurious_signal, threshold: 2, tolerance: 0.1}");
  const auto out = run_sweep(spec, [](const auto& p, auto r) { return around(p.heterogeneity, r); });
  ASSERT_EQ(out.crossings.size(), 1u);
  const auto& c = out.crossings[0];
  EXPECT_EQ(c.hi, ParamValue(2.0));
  EXPECT_EQ(c.lo, ParamValue(2.0 - 1.0 / 16));
  EXPECT_EQ(c.estimate, 2.0);
  EXPECT_EQ(c.direction, Direction::up);
}

// Below 4 the metric is 0, from 6 on it is 2; in [4, 6) one replicate diverges or fails, the other ends low.
Truth with_a_broken_middle(const science::Params& p, std::int64_t replicate) {
  const double m = p.heterogeneity;
  if (m < 4) return {Outcome::done, 0};
  if (m >= 6) return {Outcome::done, 2};
  if (replicate == 0) return {Outcome::done, 0};
  return {m < 5 ? Outcome::diverged : Outcome::failed, std::nan("")};
}

Crossing only_crossing(const std::string& diverged_as) {
  const auto spec = spec_of(eleven_points,
                            "{axis: heterogeneity, metric: spurious_signal, threshold: 1, tolerance: "
                            "0.02, diverged_as: " +
                                diverged_as + "}");
  const auto out = run_sweep(spec, with_a_broken_middle);
  EXPECT_TRUE(out.resolved);
  EXPECT_EQ(out.crossings.size(), 1u);
  return out.crossings.at(0);
}

TEST(Refiner, CountsAPointWithADivergedOrFailedReplicateAboveByDefault) {
  const auto c = only_crossing("above");
  EXPECT_EQ(c.hi, ParamValue(4.0));
  EXPECT_EQ(c.lo, ParamValue(4.0 - 1.0 / 64));
  EXPECT_EQ(c.estimate, as_real(c.lo) + (as_real(c.hi) - as_real(c.lo)) / 2);  // no mean at hi: the middle
  EXPECT_EQ(c.direction, Direction::up);
}

TEST(Refiner, CountsAPointWithADivergedOrFailedReplicateBelowWhenAsked) {
  const auto c = only_crossing("below");
  EXPECT_EQ(c.lo, ParamValue(6.0 - 1.0 / 64));
  EXPECT_EQ(c.hi, ParamValue(6.0));
  EXPECT_EQ(c.direction, Direction::up);
}

// With skip, 3 and 6 become neighbours; their midpoint 4.5 is skipped too, so nothing says which half holds
// the crossing: it stays [3, 6], final, after one point.
TEST(Refiner, SkipsPointsWithDivergedOrFailedReplicatesAndStopsAtASkippedMidpoint) {
  const auto c = only_crossing("skip");
  EXPECT_EQ(c.lo, ParamValue(3.0));
  EXPECT_EQ(c.hi, ParamValue(6.0));
  EXPECT_EQ(c.runs, 2);
  EXPECT_TRUE(c.resolved);
}

// Two combinations (spurious_mean) with crossings at different places, a diverged region, two replicates.
const std::string two_combinations = eleven_points + "  spurious_mean: [1, 2]\n";
Truth wavy(const science::Params& p, std::int64_t replicate) {
  const double m = p.heterogeneity;
  if (m > 8.7) return {Outcome::diverged, std::nan("")};
  return around(std::sin(m * p.spurious_mean / 2), replicate);
}
const std::string wavy_refine = "{axis: heterogeneity, metric: spurious_signal, threshold: 0.2, tolerance: 0.005}";

TEST(Refiner, AsksForTheSamePointsWhateverTheOrderOfTheResults) {
  const auto spec = spec_of(two_combinations, wavy_refine);
  const auto reference = run_sweep(spec, wavy);
  ASSERT_GE(reference.crossings.size(), 4u);
  std::mt19937_64 random(5);
  for (int trial = 0; trial < 5; ++trial) {
    SCOPED_TRACE(trial);
    Refiner refiner(spec);
    const spec::Grid grid(spec);
    std::vector<spec::RunPoint> pool;
    for (std::int64_t i = 0; i < grid.size(); ++i) pool.push_back(grid.point(i));
    std::vector<spec::RunPoint> handed_out;
    while (!pool.empty()) {
      // A random share of the runs in flight finishes, in a random order.
      std::shuffle(pool.begin(), pool.end(), random);
      const auto finishing = 1 + random() % pool.size();
      for (std::size_t i = 0; i < finishing; ++i) record(refiner, wavy, pool[i].params, pool[i].replicate);
      pool.erase(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(finishing));
      for (auto& run : refiner.take_ready()) {
        handed_out.push_back(run);
        pool.push_back(std::move(run));
      }
    }
    EXPECT_EQ(keys(handed_out), keys(reference.refinement_runs));
    EXPECT_EQ(handed_out.size(), reference.refinement_runs.size());  // none twice
    EXPECT_EQ(refiner.crossings(), reference.crossings);
    EXPECT_TRUE(refiner.resolved());
  }
}

TEST(Refiner, ReachesTheSameCrossingsFromAllResultsAtOnceInReverse) {
  const auto spec = spec_of(two_combinations, wavy_refine);
  const auto reference = run_sweep(spec, wavy);
  Refiner refiner(spec);
  auto runs = reference.refinement_runs;
  std::reverse(runs.begin(), runs.end());  // the deepest midpoints first, before anything asks for them
  for (const auto& run : runs) record(refiner, wavy, run.params, run.replicate);
  const spec::Grid grid(spec);
  for (std::int64_t i = grid.size(); i-- > 0;) record(refiner, wavy, grid.point(i).params, grid.point(i).replicate);
  EXPECT_TRUE(refiner.take_ready().empty());
  EXPECT_EQ(refiner.crossings(), reference.crossings);
  EXPECT_TRUE(refiner.resolved());
}

// A stopped sweep's file holds the grid rows and the refinement rows handed out, some finished, some pending.
// A new refiner rebuilt from those rows asks for none of them again and ends where an uninterrupted sweep does.
TEST(Refiner, ResumesFromTheRowsOfAStoppedSweepToTheSamePoints) {
  const auto spec = spec_of(two_combinations, wavy_refine);
  const auto reference = run_sweep(spec, wavy);
  const spec::Grid grid(spec);
  for (std::size_t finished_share : {0u, 1u, 2u}) {
    SCOPED_TRACE(finished_share);
    std::vector<std::pair<spec::RunPoint, bool>> rows;  // (run, finished)
    {
      Refiner first(spec);
      for (std::int64_t i = 0; i < grid.size(); ++i) {
        record(first, wavy, grid.point(i).params, grid.point(i).replicate);
        rows.emplace_back(grid.point(i), true);
      }
      for (int round = 0; round < 2; ++round) {
        const auto ready = first.take_ready();
        for (std::size_t i = 0; i < ready.size(); ++i) {
          const bool finished = round == 0 && i % 3 < finished_share;
          if (finished) record(first, wavy, ready[i].params, ready[i].replicate);
          rows.emplace_back(ready[i], finished);
        }
      }
    }
    Refiner resumed(spec);
    for (const auto& [run, finished] : rows) resumed.note_existing(run.params, run.replicate);
    for (const auto& [run, finished] : rows) {
      if (finished) record(resumed, wavy, run.params, run.replicate);
    }
    std::set<std::uint64_t> row_keys;
    std::vector<spec::RunPoint> refinement_rows;
    for (const auto& [run, finished] : rows) {
      row_keys.insert(run.key);
      if (run.coords[0] == -1) refinement_rows.push_back(run);
    }
    // The master computes the pending rows, and whatever the refiner hands out after them.
    std::vector<spec::RunPoint> pool;
    for (const auto& [run, finished] : rows) {
      if (!finished) pool.push_back(run);
    }
    while (!pool.empty()) {
      const auto run = pool.back();
      pool.pop_back();
      record(resumed, wavy, run.params, run.replicate);
      for (auto& next : resumed.take_ready()) {
        EXPECT_FALSE(row_keys.contains(next.key));
        refinement_rows.push_back(next);
        pool.push_back(std::move(next));
      }
    }
    EXPECT_EQ(keys(refinement_rows), keys(reference.refinement_runs));
    EXPECT_EQ(refinement_rows.size(), reference.refinement_runs.size());
    EXPECT_EQ(resumed.crossings(), reference.crossings);
    EXPECT_TRUE(resumed.resolved());
  }
}

TEST(Refiner, BisectsAnIntegerAxisWithIntegerMidpointsDownToNeighbours) {
  const auto spec =
      spec_of("  steps: [10, 100]\n", "{axis: steps, metric: spurious_signal, threshold: 37.5, tolerance: 0.5}");
  const auto out = run_sweep(spec, [](const auto& p, auto r) { return around(static_cast<double>(p.steps), r); });
  ASSERT_EQ(out.crossings.size(), 1u);
  EXPECT_EQ(out.crossings[0].lo, ParamValue(std::int64_t{37}));
  EXPECT_EQ(out.crossings[0].hi, ParamValue(std::int64_t{38}));
  EXPECT_DOUBLE_EQ(out.crossings[0].estimate, 37.5);
  for (const auto& run : out.refinement_runs) {
    EXPECT_GT(run.params.steps, 10);
    EXPECT_LT(run.params.steps, 100);
  }
  // 55, 32, 43, 37, 40, 38: six points, two replicates each.
  EXPECT_EQ(out.refinement_runs.size(), 12u);
  EXPECT_LE(6, max_points_per_combination(spec));
}

TEST(Refiner, GivesRefinementRunsTheKeysSeedsAndCoordinatesOfAnyRun) {
  const auto spec = spec_of(two_combinations, wavy_refine);
  const auto out = run_sweep(spec, wavy);
  ASSERT_FALSE(out.refinement_runs.empty());
  for (const auto& run : out.refinement_runs) {
    EXPECT_EQ(run.key, spec::run_key(run.params, run.replicate));
    EXPECT_EQ(run.seed, spec::run_seed(spec.seed, run.key));
    ASSERT_EQ(run.coords.size(), 2u);
    EXPECT_EQ(run.coords[0], -1);  // heterogeneity: off the grid
    EXPECT_EQ(ParamValue(run.params.spurious_mean), spec.axes[1].values[static_cast<std::size_t>(run.coords[1])]);
    auto at_base = run.params;
    at_base.heterogeneity = spec.base.heterogeneity;
    at_base.spurious_mean = spec.base.spurious_mean;
    EXPECT_EQ(at_base, spec.base);
  }
}

TEST(Refiner, RefinesOnlyItsShardsCombinations) {
  const auto spec = spec_of(eleven_points + "  spurious_mean: [1, 2, 3]\n  noise: [0, 0.5]\n", wavy_refine, 1);
  const auto reference = run_sweep(spec, wavy);
  std::vector<Crossing> merged;
  std::set<std::uint64_t> merged_keys;
  std::size_t handed_out = 0;
  for (std::uint64_t shard = 0; shard < 2; ++shard) {
    const auto out = run_sweep(spec, wavy, [shard](std::uint64_t seed) { return seed % 2 == shard; });
    EXPECT_TRUE(out.resolved);
    EXPECT_LT(out.crossings.size(), reference.crossings.size());
    merged.insert(merged.end(), out.crossings.begin(), out.crossings.end());
    handed_out += out.refinement_runs.size();
    for (const auto k : keys(out.refinement_runs)) merged_keys.insert(k);
  }
  std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) {
    return std::pair(a.combination, as_real(a.lo)) < std::pair(b.combination, as_real(b.lo));
  });
  EXPECT_EQ(merged, reference.crossings);
  EXPECT_EQ(merged_keys, keys(reference.refinement_runs));
  EXPECT_EQ(handed_out, reference.refinement_runs.size());
}

TEST(Refiner, IsResolvedOnlyWhenEveryGridAndRefinementRunHasFinished) {
  const auto spec = spec_of(eleven_points + "  spurious_mean: [1, 2]\n",
                            "{axis: heterogeneity, metric: spurious_signal, threshold: 0.2, tolerance: 0.01}");
  // Only the combination spurious_mean = 2 crosses.
  const Model model = [](const auto& p, auto r) { return around(p.spurious_mean > 1 ? p.heterogeneity : 0, r); };
  Refiner refiner(spec);
  EXPECT_FALSE(refiner.resolved());
  const spec::Grid grid(spec);
  for (std::int64_t i = 0; i + 1 < grid.size(); ++i)
    record(refiner, model, grid.point(i).params, grid.point(i).replicate);
  EXPECT_FALSE(refiner.resolved());  // one grid run left
  record(refiner, model, grid.point(grid.size() - 1).params, grid.point(grid.size() - 1).replicate);
  EXPECT_FALSE(refiner.resolved());  // the crossing's midpoint is to compute
  auto ready = refiner.take_ready();
  ASSERT_EQ(ready.size(), 2u);  // one point, two replicates
  EXPECT_TRUE(refiner.take_ready().empty());
  while (!ready.empty()) {
    EXPECT_FALSE(refiner.resolved());
    for (const auto& run : ready) record(refiner, model, run.params, run.replicate);
    ready = refiner.take_ready();
  }
  EXPECT_TRUE(refiner.resolved());
  ASSERT_EQ(refiner.crossings().size(), 1u);
  EXPECT_EQ(refiner.crossings()[0].where, (std::vector<ParamValue>{2.0}));
  EXPECT_EQ(refiner.crossings()[0].combination, 1);
}

TEST(Refiner, NeverAsksForMorePointsThanPlansBound) {
  std::mt19937_64 random(9);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (const std::string diverged_as : {"above", "below", "skip"}) {
    const auto spec = spec_of("  heterogeneity: [0, 0.7, 2, 2.5, 6, 10]\n",
                              "{axis: heterogeneity, metric: spurious_signal, threshold: 0, tolerance: 0.003, "
                              "diverged_as: " +
                                  diverged_as + "}",
                              1);
    const auto bound = max_points_per_combination(spec);
    for (int trial = 0; trial < 50; ++trial) {
      const double frequency = 0.5 + 5 * uniform(random), phase = 6 * uniform(random);
      const double broken_from = 10 * uniform(random), broken_to = broken_from + uniform(random);
      const auto out = run_sweep(spec, [&](const auto& p, auto) {
        const double m = p.heterogeneity;
        if (m >= broken_from && m < broken_to) return Truth{Outcome::diverged, 0};
        return Truth{Outcome::done, std::sin(frequency * m + phase)};
      });
      EXPECT_LE(static_cast<std::int64_t>(out.refinement_runs.size()), bound) << diverged_as << " trial " << trial;
    }
  }
}

TEST(Refiner, RefusesRunsOffTheOtherAxesOrReplicates) {
  const auto spec = spec_of(two_combinations, wavy_refine);
  Refiner refiner(spec);
  science::Params params = spec.base;
  params.spurious_mean = 7;
  EXPECT_THROW(refiner.record(params, 0, Outcome::done, {}), std::invalid_argument);
  params.spurious_mean = 2;
  EXPECT_THROW(refiner.record(params, 2, Outcome::done, {}), std::invalid_argument);
  EXPECT_THROW(refiner.note_existing(params, -1), std::invalid_argument);
}

}  // namespace
}  // namespace hetsweep::refine
