// Writes a small results file with refinement runs and a boundary, through the store's API (the master does
// not create refinement runs yet), for the Python and command-line tests:
//   write_refine_file OUT.h5
// The sample sweep (step_size [0.01, 0.05] x algorithm [hetero, pooled] x 2 replicates, fake outcomes) with 4
// refinement runs at step_size 0.03, 3 of them finished, and 2 crossings in /boundary.

#include <cstdio>
#include <exception>
#include <vector>

#include "fake_sweep.hpp"
#include "spec/grid.hpp"

namespace {

using namespace hetsweep;
using store::test_support::fake_outcome;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_refine_file OUT.h5\n");
    return 2;
  }
  try {
    const auto spec = store::test_support::parse(store::test_support::refine_spec_text);
    store::ResultsWriter writer(argv[1], spec, store::OpenMode::restart);
    const spec::Grid grid(spec);
    std::vector<spec::RunPoint> points;
    for (std::int64_t i = 0; i < 4; ++i) {
      auto point = grid.point(i);
      point.params.step_size = 0.03;
      point.coords[0] = -1;
      point.key = spec::run_key(point.params, point.replicate);
      point.seed = spec::run_seed(spec.seed, point.key);
      points.push_back(point);
    }
    writer.append_runs(points);
    const auto pending = writer.pending();
    for (const auto& run : pending) {
      if (run.row != 11) writer.write(fake_outcome(run));
    }
    const std::vector<spec::Crossing> crossings{
        {{std::string("hetero")}, 0.01, 0.03, spec::Crossing::Direction::down, 0.0215, 8},
        {{std::string("pooled")}, 0.03, 0.05, spec::Crossing::Direction::up, 0.04, 8}};
    writer.write_boundary(crossings);
    writer.close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_refine_file: %s\n", e.what());
    return 1;
  }
  return 0;
}
