#!/usr/bin/env bash
# An rsh agent for Open MPI's mpirun (`--mca plm_rsh_agent THIS`, or OMPI_MCA_plm_rsh_agent=THIS) that
# emulates remote hosts on this machine: `THIS HOST COMMAND...` runs COMMAND here, as ssh would run it on HOST
# (the words joined and read by a shell), in a new UTS namespace whose hostname is HOST. Each emulated host
# then has a hostname of its own, which Open MPI needs to keep hosts' shared memory apart. Needs root.
set -euo pipefail
host=${1:?usage: uts_rsh_agent.sh HOST COMMAND...}
shift
# shellcheck disable=SC2016  # $0 is the inner shell's
exec unshare --uts sh -c 'hostname "$0" && eval "$1"' "$host" "$*"
