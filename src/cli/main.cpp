// hetsweep: parameter sweeps of multi-environment matrix sensing on MPI, results in one HDF5 file.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <map>
#include <string>

#include "cli/boundary_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/export_command.hpp"
#include "cli/isa_choice.hpp"
#include "cli/merge_command.hpp"
#include "cli/plan_command.hpp"
#include "cli/report_command.hpp"
#include "cli/run_command.hpp"
#include "cli/simulate_command.hpp"
#include "cli/status_command.hpp"
#include "cli/verify_command.hpp"
#include "sched/console.hpp"

int main(int argc, char** argv) {
  using namespace hetsweep::cli;
  // First of all, before MPI starts: this process may become the executable of another instruction set.
  if (const auto refused = become_chosen_isa(argc, argv)) return *refused;
  CLI::App app{"hetsweep: parameter sweeps of multi-environment matrix sensing (HeteroSGD vs PooledSGD)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", HETSWEEP_VERSION);
  // Read by become_chosen_isa; declared here so that it is accepted (before or after the command) and listed.
  app.fallthrough();
  app.add_option("--isa",
                 "kernels to compute with: baseline (x86-64), v3 (x86-64-v3: AVX2 + FMA) or auto (v3 when "
                 "the CPU has it); default: $HETSWEEP_ISA, else auto")
      ->check(CLI::IsMember({"baseline", "x86-64", "v3", "x86-64-v3", "auto"}));
  const std::map<std::string, std::function<int()>> commands{
      {"simulate", add_simulate_command(app)}, {"run", add_run_command(app)},
      {"plan", add_plan_command(app)},         {"status", add_status_command(app)},
      {"report", add_report_command(app)},     {"export", add_export_command(app)},
      {"merge", add_merge_command(app)},       {"verify", add_verify_command(app)},
      {"boundary", add_boundary_command(app)},
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_success : exit_bad_input;
  }
  try {
    return commands.at(app.get_subcommands().front()->get_name())();
  } catch (const UsageError& e) {
    hetsweep::sched::tell(stderr, fmt::format("hetsweep: {}\n", e.what()));
    return exit_bad_input;
  } catch (const SystemFailure& e) {
    hetsweep::sched::tell(stderr, fmt::format("hetsweep: {}\n", e.what()));
    return exit_failure;
  } catch (const std::exception& e) {
    hetsweep::sched::tell(stderr, fmt::format("hetsweep: unexpected failure: {}\n", e.what()));
    return exit_failure;
  }
}
