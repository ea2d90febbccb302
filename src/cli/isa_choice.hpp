#pragma once
// Which executable computes: hetsweep (baseline x86-64 kernels) or hetsweep-x86-64-v3 (AVX2 + FMA), beside it.
//
// Chosen once at start-up, before MPI starts, from `--isa baseline|v3|auto` on the command line, else the
// HETSWEEP_ISA environment variable, else auto: v3 when the CPU runs it and its executable is there. The
// process replaces itself (execv, same process id, arguments and environment) with the executable chosen,
// so every rank of an MPI job makes its own choice; the master refuses workers of another level.

#include <optional>
#include <string>

namespace hetsweep::cli {

// The level asked for: "baseline" or "x86-64" -> x86-64, "v3" or "x86-64-v3" -> x86-64-v3, "auto" -> nothing.
// Throws UsageError for anything else.
std::optional<std::string> requested_isa(const std::string& value);

// Runs the executable of the level asked for when it is not this one (does not return then). Returns an exit
// code when the level cannot be had (bad value, a CPU without it, its executable missing), after saying why
// on stderr; nothing when this executable is the one to compute.
std::optional<int> become_chosen_isa(int argc, char** argv);

}  // namespace hetsweep::cli
