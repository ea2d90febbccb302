#!/usr/bin/env bash
# The README's multi-host instructions (cluster/mpirun-sweep --hostfile) on 3 hosts emulated on this machine:
# a hostfile h1 h2 h3 in the form of cluster/hostfile.example, and an rsh agent (uts_rsh_agent.sh) that runs
# each host's Open MPI daemon here in a UTS namespace named after the host. Checks that the 3 ranks ran on 3
# different hosts (each logs the hostname it sees), the master (rank 0) on the first, and that the results
# equal a local `mpirun -n 3` run bit for bit (tests/deploy/compare_results.py).
#
#   tests/deploy/mpirun_multihost.sh HETSWEEP [SPEC]    (as root; SPEC defaults to tests/cli/data/small.yaml)
#
# Prints a PASS or FAIL line per check and, last, "N passed, M failed"; exits 0 only when nothing failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
results=(/usr/bin/python3 "$repo/tests/deploy/compare_results.py")
work=$(mktemp -d /var/tmp/hetsweep-mpirun-multihost.XXXXXX)
# shellcheck source=checks.sh
source "$repo/tests/deploy/checks.sh"
finish() {
  local status=$?
  ((finished)) || fail "the test stopped early (exit status $status), see above"
  if ((failed)); then echo "files kept in $work" >&2; else rm -rf "$work"; fi
  echo "$passed passed, $failed failed"
  exit $((failed > 0))
}
trap finish EXIT

[[ -x ${1:-} ]] || give_up "usage: mpirun_multihost.sh HETSWEEP [SPEC]: no executable hetsweep at '${1:-}'"
((EUID == 0)) || give_up "needs root (unshare --uts)"
hetsweep=$(realpath "$1")
spec=$(realpath "${2:-$repo/tests/cli/data/small.yaml}")
cd "$work"

HETSWEEP=$hetsweep "$repo/cluster/mpirun-sweep" -n 3 "$spec" -o local.h5 2>local.log ||
  give_up "local mpirun -n 3 run, exit status $? (see $work/local.log)"
pass "local mpirun -n 3 run: $("${results[@]}" complete local.h5) runs"

# The binary each rank runs: it logs the rank and the hostname it sees, then becomes hetsweep.
cat >rank-logger <<LOGGER
#!/bin/sh
echo "mpirun_multihost: rank \$OMPI_COMM_WORLD_RANK on \$(uname -n)"
exec "$hetsweep" "\$@"
LOGGER
chmod +x rank-logger
printf '%s\n' "# three hosts emulated on this machine" "h1 slots=1" "h2 slots=1" "h3 slots=1" >hosts

started=$EPOCHREALTIME
status=0
OMPI_MCA_plm_rsh_agent=$repo/tests/deploy/uts_rsh_agent.sh HETSWEEP=$work/rank-logger \
  "$repo/cluster/mpirun-sweep" -n 3 --hostfile hosts "$spec" -o multihost.h5 >multihost.log 2>&1 || status=$?
cat multihost.log
elapsed=$(awk -v start="$started" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }')
check "mpirun-sweep -n 3 --hostfile (3 emulated hosts) exits 0 in $elapsed s" test "$status" = 0
ranks=$(grep -o 'mpirun_multihost: rank [0-9]* on [^ ]*' multihost.log | sort -k3n | awk '{ print $3 "@" $5 }' | tr '\n' ' ')
check "ranks ran on 3 different hosts, rank 0 (the master) on the first: $ranks" test "$ranks" = "0@h1 1@h2 2@h3 "
check "results complete" "${results[@]}" complete multihost.h5
check "results equal the local run" "${results[@]}" equal local.h5 multihost.h5

finished=1
