#include "cli/isa_choice.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "cli/exit_codes.hpp"
#include "sched/console.hpp"
#include "science/isa.hpp"

namespace hetsweep::cli {
namespace {

namespace fs = std::filesystem;

// Set for the executable started by the choice, so that it does not choose again.
constexpr const char* chosen_variable = "HETSWEEP_ISA_CHOSEN";

std::string executable_name(std::string_view isa) { return isa == science::v3_isa ? "hetsweep-x86-64-v3" : "hetsweep"; }

// The value of `--isa` among the arguments (`--isa X` or `--isa=X`), else of HETSWEEP_ISA, else "auto".
std::string isa_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--isa" && i + 1 < argc) return argv[i + 1];
    if (argument.starts_with("--isa=")) return std::string(argument.substr(6));
  }
  if (const char* value = std::getenv("HETSWEEP_ISA"); value != nullptr && *value != '\0') return value;
  return "auto";
}

}  // namespace

std::optional<std::string> requested_isa(const std::string& value) {
  if (value == "auto") return std::nullopt;
  if (value == "baseline" || value == science::baseline_isa) return std::string(science::baseline_isa);
  if (value == "v3" || value == science::v3_isa) return std::string(science::v3_isa);
  throw UsageError(
      fmt::format("--isa (or HETSWEEP_ISA): '{}' is not one of baseline (x86-64), v3 (x86-64-v3), auto", value));
}

std::optional<int> become_chosen_isa(int argc, char** argv) {
  const std::string_view own = science::kernel_isa();
  if (const char* chosen = std::getenv(chosen_variable); chosen != nullptr && own == chosen) return std::nullopt;
  std::optional<std::string> wanted;
  try {
    wanted = requested_isa(isa_argument(argc, argv));
  } catch (const UsageError& e) {
    sched::tell(stderr, fmt::format("hetsweep: {}\n", e.what()));
    return exit_bad_input;
  }
  std::error_code error;
  const fs::path directory = fs::read_symlink("/proc/self/exe", error).parent_path();
  const auto available = [&](std::string_view isa) {
    return isa == own || (!directory.empty() && ::access((directory / executable_name(isa)).c_str(), X_OK) == 0);
  };
  if (!wanted) {
    wanted =
        std::string(science::cpu_supports_v3() && available(science::v3_isa) ? science::v3_isa : science::baseline_isa);
  } else if (*wanted == science::v3_isa && !science::cpu_supports_v3()) {
    sched::tell(stderr, fmt::format("hetsweep: this CPU cannot run x86-64-v3 code (it lacks AVX2, FMA or another "
                                    "of its instructions); use --isa baseline\n"));
    return exit_bad_input;
  }
  if (*wanted == own) return std::nullopt;
  const fs::path sibling = directory / executable_name(*wanted);
  if (!available(*wanted)) {
    sched::tell(stderr, fmt::format("hetsweep: this build has no {} executable ({} is missing); use --isa {}\n",
                                    *wanted, sibling.string(), own == science::v3_isa ? "v3" : "baseline"));
    return exit_bad_input;
  }
  ::setenv(chosen_variable, wanted->c_str(), 1);
  ::execv(sibling.c_str(), argv);
  sched::tell(stderr, fmt::format("hetsweep: cannot start {}: {}\n", sibling.string(), std::strerror(errno)));
  return exit_failure;
}

}  // namespace hetsweep::cli
