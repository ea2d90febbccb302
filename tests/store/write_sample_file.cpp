// Writes a small results file with fake outcomes (see fake_sweep.hpp) for check_layout.py:
//   write_sample_file OUT.h5 [COMMAND ARGS...]
// The file is first made for a smaller grid, then grown to the sample spec's (as a resume with more axis
// values does), so that the layout checks cover grown files. With a COMMAND, runs it once some rows are
// flushed and the writer still has the file open (to check that readers can open a file while it is
// written), then finishes. Exits with COMMAND's failure if it fails.

#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <exception>
#include <vector>

#include "fake_sweep.hpp"

extern char** environ;

namespace {

using hetsweep::science::RowStatus;
using hetsweep::store::OpenMode;
using hetsweep::store::ResultsWriter;
using hetsweep::store::test_support::fake_outcome;

// Every kind of axis (string, integer, real), not in the order of their names, and two step counts so that
// some trajectories end early.
constexpr const char* sample_spec = R"(name: layout-sample
seed: 3
fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, record_every: 10}
grid:
  heterogeneity: {start: 0.0, stop: 1.0, num: 3}
  algorithm: [hetero, pooled]
  steps: [30, 40]
  batch_size: [10, 100]
replicates: 2
)";
// The same sweep before it grew: fewer heterogeneities and replicates.
constexpr const char* sample_spec_before_growing = R"(name: layout-sample
seed: 3
fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, record_every: 10}
grid:
  heterogeneity: [0.0, 1.0]
  algorithm: [hetero, pooled]
  steps: [30, 40]
  batch_size: [10, 100]
replicates: 1
)";

int run(char** argv) {
  pid_t child = 0;
  if (posix_spawnp(&child, argv[0], nullptr, nullptr, argv, environ) != 0) {
    std::perror(argv[0]);
    return 127;
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// Row 3, 10, 17, ... diverge after step 10; rows 5, 16, 27, ... fail; the others finish.
void write_rows(ResultsWriter& writer, const std::vector<hetsweep::science::PendingRun>& pending, std::size_t first,
                std::size_t end) {
  for (std::size_t i = first; i < end; ++i) {
    const auto& run = pending[i];
    if (run.row % 7 == 3) {
      writer.write(fake_outcome(run, RowStatus::diverged, 10));
    } else if (run.row % 11 == 5) {
      writer.write(fake_outcome(run, RowStatus::failed));
    } else {
      writer.write(fake_outcome(run));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.h5 [COMMAND ARGS...]\n", argv[0]);
    return 2;
  }
  try {
    const auto before = hetsweep::spec::parse_spec(sample_spec_before_growing, "layout-sample.yaml");
    {
      ResultsWriter first(argv[1], before, OpenMode::restart);
      write_rows(first, first.pending(), 0, 10);
      first.close();
    }
    const auto spec = hetsweep::spec::parse_spec(sample_spec, "layout-sample.yaml");
    ResultsWriter writer(argv[1], spec, OpenMode::create_or_resume);
    const auto pending = writer.pending();
    write_rows(writer, pending, 0, 20);
    writer.flush();
    const int command = argc > 2 ? run(argv + 2) : 0;
    write_rows(writer, pending, 20, 30);  // the last 8 rows stay pending
    writer.close();
    if (command != 0) {
      std::fprintf(stderr, "%s: the command run while writing failed (%d)\n", argv[0], command);
      return command;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
