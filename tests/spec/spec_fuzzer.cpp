// libFuzzer target for the spec parser: every input is either a usable spec or refused with a SpecError. Any
// other exception escapes and aborts, which libFuzzer reports as a crash, as it does any sanitizer finding.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "science/params.hpp"
#include "spec/grid.hpp"
#include "spec/resume_policy.hpp"
#include "spec/sweep_spec.hpp"

namespace {

// What the rest of hetsweep relies on in a spec that parse_spec accepted.
void check_usable(const hetsweep::spec::SweepSpec& spec) {
  using namespace hetsweep;
  const spec::Grid grid(spec);
  if (grid.size() < 1 || grid.size() > spec::max_runs) std::abort();
  for (const auto index : {std::int64_t{0}, grid.size() - 1}) {
    const auto run = grid.point(index);
    for (const auto& param : science::parameters()) {
      if (science::check_value(param, param.get(run.params))) std::abort();
    }
    if (!science::check_consistency(run.params).empty()) std::abort();
  }
  if (spec::fingerprint(spec).size() != 16) std::abort();
  if (spec::resume_conflict(spec, spec)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    check_usable(hetsweep::spec::parse_spec(text, "fuzz.yaml"));
  } catch (const hetsweep::spec::SpecError&) {
    // A refusal is the parser working.
  }
  return 0;
}
