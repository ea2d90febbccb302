#!/usr/bin/env bash
# Builds the spec parser's libFuzzer target with clang (ASan + UBSan) in a temporary directory and fuzzes it
# for SECONDS, seeded with the specs under sweep/ and tests/spec/data/. Exits non-zero on any crash, leak,
# sanitizer report or timeout, keeping the directory with the input that caused it.
#   tests/spec/run_spec_fuzzer.sh SECONDS        (CLANGXX overrides the compiler, default clang++)
set -euo pipefail

if (($# != 1)) || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS" >&2
  exit 2
fi
seconds=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
clangxx=${CLANGXX:-clang++}
work=$(mktemp -d "${TMPDIR:-/tmp}/spec-fuzzer.XXXXXX")

echo "run_spec_fuzzer: building in $work" >&2
"$clangxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/src" \
  "$root/src/science/params.cpp" "$root/src/science/footprint.cpp" "$root/src/science/records.cpp" \
  "$root"/src/spec/*.cpp "$root/tests/spec/spec_fuzzer.cpp" \
  -lyaml-cpp -lfmt -lxxhash -o "$work/spec_fuzzer"

# libFuzzer adds what it finds to the first corpus directory: a copy, so the sources stay as they are.
mkdir "$work/corpus"
shopt -s nullglob
seeds=("$root"/sweep/*.yaml "$root"/sweep/*/*.yaml "$root"/tests/spec/data/*.yaml)
# Numbered copies: specs in different folders may share a name.
for i in "${!seeds[@]}"; do cp "${seeds[$i]}" "$work/corpus/$i-$(basename "${seeds[$i]}")"; done

status=0
"$work/spec_fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" || status=$?
if ((status != 0)); then
  echo "run_spec_fuzzer: FAILED (exit $status); the input is kept in $work (crash-*, leak-*, timeout-*)" >&2
  exit "$status"
fi
rm -rf "$work"
echo "run_spec_fuzzer: no crash in $seconds seconds" >&2
