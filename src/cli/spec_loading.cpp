#include "cli/spec_loading.hpp"

#include "cli/exit_codes.hpp"

namespace hetsweep::cli {

spec::SweepSpec load_spec_or_usage_error(const std::filesystem::path& path) {
  try {
    return spec::load_spec(path);
  } catch (const spec::SpecError& e) {
    throw UsageError(e.what());
  }
}

}  // namespace hetsweep::cli
