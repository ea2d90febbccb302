#!/usr/bin/env bash
# isa_instructions.sh HETSWEEP: the instructions in the two executables match their levels. In hetsweep
# (baseline x86-64), AVX registers appear only in the Philox kernels chosen at run time (integer arithmetic:
# the same bits everywhere); in hetsweep-x86-64-v3 the floating-point kernels use AVX2 and FMA, and AVX-512
# registers appear only in the AVX-512 Philox kernel. So the v3 results are the same on every CPU that runs
# x86-64-v3, with or without AVX-512.
set -euo pipefail
hetsweep=$1
v3="$(dirname "$hetsweep")/hetsweep-x86-64-v3"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The functions of executable $1 whose code names a register matching $2, one per line.
functions_using() {
  objdump -d --no-show-raw-insn -C "$1" |
    awk -v pattern="$2" '/^[0-9a-f]+ <.*>:$/ { name = $0; next } $0 ~ pattern && !seen[name]++ { print name }'
}

[[ -x $v3 ]] || { echo "no x86-64-v3 executable in this build: nothing to check"; exit 0; }
outside=$(functions_using "$hetsweep" '%[yz]mm' | grep -v 'avx2_blocks\|avx512_blocks' || true)
[[ -z $outside ]] || fail "baseline code uses AVX registers outside the Philox kernels:"$'\n'"$outside"
outside=$(functions_using "$v3" '%zmm' | grep -v 'avx512_blocks' || true)
[[ -z $outside ]] || fail "x86-64-v3 code uses AVX-512 registers outside the Philox kernel:"$'\n'"$outside"
fused=$(functions_using "$v3" 'vfn?m(add|sub)' | grep -c 'hetsweep::science' || true)
((fused > 0)) || fail "the x86-64-v3 kernels use no fused multiply-add: were they compiled for x86-64-v3?"
echo "baseline: AVX only in the Philox kernels; x86-64-v3: FMA in $fused science functions, AVX-512 only in Philox"
