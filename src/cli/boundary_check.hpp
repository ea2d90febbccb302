#pragma once
// Whether a results file's /boundary is what its finished runs imply: the same bisection `run` does, fed
// with every finished row, must locate exactly the crossings stored there.

#include <cstdint>
#include <string>
#include <vector>

#include "store/results_file.hpp"

namespace hetsweep::cli {

struct BoundaryCheck {
  bool applies = false;               // the spec has a refine block and the file a /boundary
  std::vector<std::string> problems;  // stored crossings the results do not imply
  std::int64_t missing = 0;           // located crossings /boundary lacks (a merged file before `run`)
  std::int64_t stored = 0;
};

BoundaryCheck check_boundary(const store::ResultsReader& reader);

}  // namespace hetsweep::cli
