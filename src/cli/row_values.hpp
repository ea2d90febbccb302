#pragma once
// A results row's parameter values: its axis value where the parameter is swept (a refinement row's own value
// on the refine axis), the spec's fixed value otherwise.

#include <string_view>

#include "science/params.hpp"
#include "spec/sweep_spec.hpp"
#include "store/results_file.hpp"

namespace hetsweep::cli {

science::ParamValue row_value(const spec::SweepSpec& spec, const store::RowSummary& row, std::string_view name);

}  // namespace hetsweep::cli
