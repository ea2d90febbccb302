#!/usr/bin/env bash
# `hetsweep verify` through the real binary on a real sweep: exit 0 on a clean file (every finished run
# recomputed to the same bits), 1 with the damaged dataset named after a byte of it is flipped, 2 on what is
# not a results file or on bad flags.
#   verify.sh HETSWEEP WORKDIR
set -euo pipefail
hetsweep=$1 workdir=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=expect.sh
source "$(dirname "$0")/expect.sh"
rm -rf "$workdir" && mkdir -p "$workdir" && cd "$workdir"

# flip FILE DATASET: flips one byte in the middle of the stored bytes of the dataset's first chunk.
flip() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, h5py
path, name = sys.argv[1], sys.argv[2]
with h5py.File(path, "r") as f:
    chunk = f[name].id.get_chunk_info(0)
with open(path, "r+b") as out:
    out.seek(chunk.byte_offset + chunk.size // 2)
    byte = out.read(1)[0]
    out.seek(chunk.byte_offset + chunk.size // 2)
    out.write(bytes([byte ^ 0x10]))
PY
}

"$hetsweep" run "$here/data/small.yaml" -o clean.h5 2>run.log
before=$(sha256sum <clean.h5)
expect 0 "recomputed 48 finished runs.*another build may differ" -- "$hetsweep" verify clean.h5 --recompute all
grep -q "clean.h5: OK, no problem found" out.txt || fail "no OK line: $(cat out.txt)"
expect 0 "recomputed 5 finished runs \(chosen with --seed 3\)" -- "$hetsweep" verify clean.h5 --recompute 5 --seed 3

for dataset in trajectories/loss runs; do
  cp clean.h5 damaged.h5
  flip damaged.h5 "$dataset"
  expect 1 "^  /$dataset rows 0\.\.47: damaged chunk: its Fletcher32 checksum does not match" -- "$hetsweep" verify damaged.h5
  grep -q "damaged.h5: 1 problem found" out.txt || fail "not exactly one problem: $(cat out.txt)"
done
[[ $(sha256sum <clean.h5) == "$before" ]] || fail "verify changed the file it checked"

echo "not a results file" >text.h5
expect 2 "text.h5: is not an HDF5 file" -- "$hetsweep" verify text.h5
/usr/bin/python3 -c 'import h5py; h5py.File("other.h5", "w").create_dataset("x", data=[1])'
expect 2 "other.h5: is not a hetsweep results file" -- "$hetsweep" verify other.h5
expect 2 "missing.h5: does not exist" -- "$hetsweep" verify missing.h5
expect 2 "--recompute: \"some\" is neither" -- "$hetsweep" verify clean.h5 --recompute some
expect 2 "--seed" -- "$hetsweep" verify clean.h5 --recompute 1 --seed -1
echo "all verify checks passed"
