#include "cli/sweep_refinement.hpp"

#include <span>
#include <stdexcept>
#include <string>

#include "refine/bisection.hpp"
#include "refine/refiner.hpp"

namespace hetsweep::cli {
namespace {

spec::Crossing to_stored(const refine::Crossing& found) {
  spec::Crossing crossing;
  crossing.where = found.where;
  crossing.lo = refine::as_double(found.lo);
  crossing.hi = refine::as_double(found.hi);
  crossing.direction =
      found.direction == refine::Direction::down ? spec::Crossing::Direction::down : spec::Crossing::Direction::up;
  crossing.estimate = found.estimate;
  crossing.runs = found.runs;
  return crossing;
}

}  // namespace

refine::Outcome outcome_of(science::RowStatus status) {
  switch (status) {
    case science::RowStatus::done:
      return refine::Outcome::done;
    case science::RowStatus::diverged:
      return refine::Outcome::diverged;
    case science::RowStatus::failed:
      return refine::Outcome::failed;
    case science::RowStatus::pending:
      break;
  }
  throw std::logic_error("refinement: a pending run has no outcome");
}

SweepRefinement::SweepRefinement(const spec::SweepSpec& spec, store::ResultsWriter& writer, const Shard& shard)
    : spec_(spec), writer_(writer), shard_(shard) {
  refine::Refiner::ShardFilter filter;
  if (shard.count > 1) filter = [shard](std::uint64_t combination_seed) { return shard.contains(combination_seed); };
  refiner_ = std::make_unique<refine::Refiner>(spec, filter);
  // Nothing is taken before every row is read, so what is asked for then is what the finished rows ask for
  // and no row has, whatever the rows' order.
  writer.visit_rows([&](const store::ResultsWriter::Row& row) {
    refiner_->note_existing(row.params, row.replicate);
    if (row.status != science::RowStatus::pending) {
      refiner_->record(row.params, row.replicate, outcome_of(row.status), row.final_metrics);
    } else if (in_shard(row.params)) {
      out_.emplace(row.row, Identity{row.params, row.replicate});
    }
  });
}

SweepRefinement::~SweepRefinement() = default;

bool SweepRefinement::in_shard(const science::Params& params) const {
  return shard_.contains(refiner_->combination_seed(params));
}

std::vector<science::PendingRun> SweepRefinement::initial_work() {
  std::vector<science::PendingRun> work;
  for (auto& run : writer_.pending()) {
    if (in_shard(run.params)) work.push_back(std::move(run));
  }
  auto ready = append_ready();
  work.insert(work.end(), std::make_move_iterator(ready.begin()), std::make_move_iterator(ready.end()));
  return work;
}

std::vector<science::PendingRun> SweepRefinement::after(const sched::WorkResult& result) {
  const auto found = out_.find(result.outcome.row);
  if (found == out_.end()) {
    throw std::logic_error("refinement: a result of a run that was not handed out (row " +
                           std::to_string(result.outcome.row) + ")");
  }
  refiner_->record(found->second.params, found->second.replicate, outcome_of(result.outcome.status),
                   result.outcome.result.final_metrics);
  out_.erase(found);
  return append_ready();
}

std::vector<science::PendingRun> SweepRefinement::append_ready() {
  const auto ready = refiner_->take_ready();
  if (ready.empty()) return {};
  const auto rows = writer_.append_runs(std::span(ready));
  std::vector<science::PendingRun> work;
  work.reserve(ready.size());
  for (std::size_t i = 0; i < ready.size(); ++i) {
    out_.emplace(rows[i], Identity{ready[i].params, ready[i].replicate});
    work.push_back({rows[i], ready[i].params, ready[i].seed});
  }
  added_ += static_cast<std::int64_t>(ready.size());
  return work;
}

std::vector<spec::Crossing> located_crossings(const refine::Refiner& refiner) {
  std::vector<spec::Crossing> located;
  for (const auto& crossing : refiner.crossings()) {
    if (crossing.resolved) located.push_back(to_stored(crossing));
  }
  return located;
}

std::vector<spec::Crossing> crossings_located_by_rows(const spec::SweepSpec& spec, const store::ResultsWriter& writer) {
  refine::Refiner refiner(spec);
  writer.visit_rows([&](const store::ResultsWriter::Row& row) {
    if (row.status != science::RowStatus::pending) {
      refiner.record(row.params, row.replicate, outcome_of(row.status), row.final_metrics);
    }
  });
  return located_crossings(refiner);
}

void SweepRefinement::write_boundary() {
  auto located = located_crossings(*refiner_);
  if (boundary_written_ && located == written_) return;
  writer_.write_boundary(located);
  written_ = std::move(located);
  boundary_written_ = true;
}

}  // namespace hetsweep::cli
