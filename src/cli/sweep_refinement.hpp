#pragma once
// What `run` adds for a spec with a refine block: the bisection (refine::Refiner) fed with the file's finished
// rows when it opens and with each result as it arrives, the runs it asks for appended to the file as pending
// rows and handed to the master, and /boundary rewritten with the crossings located so far.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "cli/shard.hpp"
#include "sched/compute.hpp"
#include "science/params.hpp"
#include "science/run.hpp"
#include "spec/boundary.hpp"
#include "spec/sweep_spec.hpp"
#include "store/results_file.hpp"

namespace hetsweep::refine {
class Refiner;
enum class Outcome : std::uint8_t;
}  // namespace hetsweep::refine

namespace hetsweep::cli {

// How a finished row's status counts for the bisection (a pending row has none: std::logic_error).
refine::Outcome outcome_of(science::RowStatus status);
// The crossings the refiner has located for good (resolved), as /boundary stores them.
std::vector<spec::Crossing> located_crossings(const refine::Refiner& refiner);

// The crossings the finished rows of `writer`'s file locate (as flushed): what its /boundary should hold.
std::vector<spec::Crossing> crossings_located_by_rows(const spec::SweepSpec& spec, const store::ResultsWriter& writer);

class SweepRefinement {
 public:
  // Reads every row of `writer`'s file: each is noted (never asked for again), the finished ones recorded.
  // `spec` (with a refine block) and `writer` must outlive this.
  SweepRefinement(const spec::SweepSpec& spec, store::ResultsWriter& writer, const Shard& shard);
  ~SweepRefinement();
  SweepRefinement(const SweepRefinement&) = delete;
  SweepRefinement& operator=(const SweepRefinement&) = delete;

  // Whether a run belongs to this shard. By its combination of the other axes, not by its own seed, so that
  // a combination's grid and refinement runs are all computed by one shard (its bisection needs them all).
  [[nodiscard]] bool in_shard(const science::Params& params) const;

  // The pending rows of this shard (grid and refinement, in row order) and, after them, the runs the
  // finished rows ask for that the file lacks (a stop came between a result and its runs), appended to the
  // file: the work of this invocation.
  std::vector<science::PendingRun> initial_work();

  // Records the result of a run of initial_work() or of an earlier call, and returns the refinement runs it
  // makes ready, appended to the file.
  std::vector<science::PendingRun> after(const sched::WorkResult& result);

  // Rewrites /boundary when the located crossings changed since the last call.
  void write_boundary();

  [[nodiscard]] std::int64_t located() const { return static_cast<std::int64_t>(written_.size()); }
  [[nodiscard]] std::int64_t added() const { return added_; }

 private:
  struct Identity {
    science::Params params;
    std::int64_t replicate = 0;
  };
  // Appends what the refiner asks for to the file; returns it as work, remembering each run by row.
  std::vector<science::PendingRun> append_ready();

  const spec::SweepSpec& spec_;
  store::ResultsWriter& writer_;
  Shard shard_;
  std::unique_ptr<refine::Refiner> refiner_;
  // The runs handed out and not yet recorded, by row: a result names only its row.
  std::unordered_map<std::int64_t, Identity> out_;
  std::vector<spec::Crossing> written_;  // what /boundary holds
  bool boundary_written_ = false;
  std::int64_t added_ = 0;  // refinement runs appended in this invocation
};

}  // namespace hetsweep::cli
