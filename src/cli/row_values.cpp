#include "cli/row_values.hpp"

namespace hetsweep::cli {

science::ParamValue row_value(const spec::SweepSpec& spec, const store::RowSummary& row, std::string_view name) {
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    if (spec.axes[a].name != name) continue;
    // A refinement row's value of the refine axis lies between the axis's values.
    if (row.coords[a] < 0) return row.refine_value;
    return spec.axes[a].values[static_cast<std::size_t>(row.coords[a])];
  }
  return science::find_parameter(name)->get(spec.base);
}

}  // namespace hetsweep::cli
