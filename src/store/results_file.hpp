#pragma once
// The results file (format `hetsweep-2`): one HDF5 file per sweep, written by the master alone and readable
// by others while it is written (SWMR). Readers also read hetsweep-1 files; writers refuse them. See README
// "The results file".

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "science/params.hpp"
#include "science/run.hpp"
#include "spec/boundary.hpp"
#include "spec/grid.hpp"
#include "spec/sweep_spec.hpp"

namespace hetsweep::store {

inline constexpr const char* format_name = "hetsweep-2";

// Where a /runs row came from (its `origin` field): the grid, or adaptive refinement, which adds runs at
// off-grid values of the spec's refine axis while the sweep runs. Rows of files without the field are grid rows.
enum class RowOrigin : std::int8_t { grid = 0, refine = 1 };

// A results file cannot be used as asked (another spec, another program's file, corrupt, unwritable).
// Carries the path; the message says what is wrong and what to do.
class ResultsFileError : public std::runtime_error {
 public:
  // `replaceable`: the file exists but cannot be used as it is (not a results file, damaged, another sweep's),
  // so a writer asked to restart would replace it.
  ResultsFileError(const std::filesystem::path& path, const std::string& message, bool replaceable = false);
  const std::filesystem::path& path() const { return path_; }
  // What is wrong, without the path.
  [[nodiscard]] const std::string& message() const { return message_; }
  [[nodiscard]] bool replaceable() const { return replaceable_; }

 private:
  std::filesystem::path path_;
  std::string message_;
  bool replaceable_;
};

enum class OpenMode {
  create_or_resume,  // create OUT, or resume it when it holds the same sweep (a grown grid is appended)
  retry_failed,      // as create_or_resume, and the failed rows are pending again, so that they are computed anew
  restart,           // replace the results file (or empty file) at OUT with a new file
};

class ResultsWriter {
 public:
  // Creates or resumes the file at `path` for `spec` and starts SWMR writing. Throws ResultsFileError when
  // the file exists but is not resumable with `spec` (a hetsweep-1 file included), or another ResultsWriter
  // (any process) has it open; the file is then left untouched. A new file, or a resumed one whose grid grew,
  // is built as a temporary file next to `path` and renamed over it when complete, so a crash meanwhile leaves
  // the old state. A file whose writer was killed is taken over: whatever it flushed is kept. A symbolic link
  // at `path` stands for its target, in every mode: the target is created, resumed, grown or replaced (and the
  // temporary made beside it), the link stays. `restart` replaces only a results file or an empty file.
  // Whatever the OS refuses about `path` (too long, a loop of links...) is a ResultsFileError too.
  ResultsWriter(const std::filesystem::path& path, const spec::SweepSpec& spec, OpenMode mode);
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;

  // Rows still pending, in row order, refinement rows included.
  [[nodiscard]] std::vector<science::PendingRun> pending() const;
  // The run key and row of every pending row, in row order: what matching runs between files (merge) needs,
  // without building each run's parameters.
  [[nodiscard]] std::vector<std::pair<std::uint64_t, std::int64_t>> pending_keys() const;
  [[nodiscard]] std::int64_t total_runs() const;
  // Whether a row of the file (grid or refinement, any status) has this run key.
  [[nodiscard]] bool has_run(std::uint64_t key) const;

  // One /runs row as the writer holds it: what adaptive refinement resumes from.
  struct Row {
    std::int64_t row = 0;
    science::Params params;
    std::int64_t replicate = 0;
    science::RowStatus status = science::RowStatus::pending;  // pending again for a failed row under retry_failed
    science::Metrics final_metrics;                           // as flushed; NaN while pending
  };
  // Calls `visit` for every row in row order, reading /runs as last flushed (so flush() first to see the
  // final metrics of outcomes written since), with each row's status as this writer holds it.
  void visit_rows(const std::function<void(const Row&)>& visit) const;

  // Adds refinement runs (spec().refine set; each point's params hold its off-grid value of the refine axis,
  // whose coords entry is ignored) as pending rows at the end of /runs, with their row numbers, per-run
  // coordinates and trajectory rows (all NaN), and makes them visible to readers at once. Returns their rows,
  // in the order of `points`; write() and flush() then take them like any row, but nothing goes to /cube for
  // them. Throws std::invalid_argument, writing nothing, for a point a reader would refuse (a key that is not
  // run_key of its parameters, a parameter off the grid other than the refine axis's, a refine value outside
  // the axis's open range, a key already in the file), and std::logic_error when the spec has no refine
  // block or the file was made before refinement existed (its /runs has no origin field).
  std::vector<std::int64_t> append_runs(std::span<const spec::RunPoint> points);
  // Replaces /boundary with `crossings` (the file was made for a spec with a refine block; std::logic_error
  // otherwise), visible to readers at once.
  void write_boundary(std::span<const spec::Crossing> crossings);

  // Flips a pending row to its final status and writes its final metrics, trajectories and cube cells.
  void write(const science::RunOutcome& outcome);
  // Makes everything written so far visible to readers and durable against a crash of this process.
  // write() may flush by itself when it has buffered many outcomes.
  void flush();
  // Flushes and closes the file, reporting any failure; the destructor does the same but can only print it.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One /runs row as readers see it.
struct RowSummary {
  std::int64_t row = 0;
  std::uint64_t key = 0;
  RowOrigin origin = RowOrigin::grid;
  // Index into each axis of spec(), as in spec::RunPoint; -1 for the refine axis of a refinement row, whose
  // value is refine_value.
  std::vector<std::int64_t> coords;
  science::ParamValue refine_value;
  std::int64_t replicate = 0;
  science::RowStatus status = science::RowStatus::pending;
  std::int64_t steps_done = 0;
  double wall_seconds = 0;
  double finished_at = 0;  // seconds since the epoch when the master wrote the row; 0 while pending
  science::Metrics final_metrics;
};

class ResultsReader {
 public:
  // Opens read-only, a hetsweep-2 or a hetsweep-1 file; works while a writer has the file open (SWMR). HDF5
  // 1.10 locks files, so a reader must open after the writer: a writer cannot open a file that a reader
  // already holds.
  explicit ResultsReader(const std::filesystem::path& path);
  ~ResultsReader();
  [[nodiscard]] const spec::SweepSpec& spec() const;
  // Every row as the writer last flushed it.
  [[nodiscard]] std::vector<RowSummary> rows() const;
  // The same rows, each passed to `visit` in row order as it is read (a block of rows at a time): memory does
  // not grow with the row count.
  void visit_rows(const std::function<void(const RowSummary&)>& visit) const;

  // A run the master finished (done, diverged or failed), as it wrote it: its records rebuilt from the
  // trajectory columns of its own record steps. For combining files (hetsweep merge).
  struct FinishedRun {
    std::uint64_t key = 0;
    RowOrigin origin = RowOrigin::grid;
    std::int64_t replicate = 0;
    science::Params params;       // as the row holds them (checked against the spec)
    science::RunOutcome outcome;  // outcome.row is the row in this file
  };
  [[nodiscard]] std::vector<FinishedRun> finished_runs() const;
  // The same runs, each passed to `visit` in row order (which may move from it) as it is read, the
  // trajectories a block of rows at a time: memory does not grow with the row count.
  void visit_finished_runs(const std::function<void(FinishedRun&)>& visit) const;
  // The instruction-set level of the kernels that computed the results (root attribute `isa`); x86-64 for
  // files made before it was recorded.
  [[nodiscard]] std::string isa() const;

  // The crossings in /boundary as last flushed, or nullopt when the file has no /boundary (made for a spec
  // without a refine block, or before refinement existed).
  [[nodiscard]] std::optional<std::vector<spec::Crossing>> boundary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hetsweep::store
