#!/usr/bin/env bash
# Hostile and bad input through the real binary: each case must end with a message naming what is wrong,
# exit code 2, no output file created and existing files byte-for-byte untouched.
#   hostile.sh HETSWEEP WORKDIR
set -uo pipefail
hetsweep=$1 workdir=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$workdir" && mkdir -p "$workdir" && cd "$workdir" || exit 1
passed=0 failed=0

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

# expect_refusal NAME PATTERN OUTPUT -- COMMAND...: exit 2, stderr matching PATTERN, OUTPUT unchanged (or
# still absent).
expect_refusal() {
  local name=$1 pattern=$2 output=$3
  shift 4
  local before=absent
  [[ -e $output ]] && before=$(find "$output" -type f -exec sha256sum {} + 2>/dev/null | sort; stat -c %Y "$output")
  local code=0
  "$@" >out.log 2>err.log || code=$?
  local after=absent
  [[ -e $output ]] && after=$(find "$output" -type f -exec sha256sum {} + 2>/dev/null | sort; stat -c %Y "$output")
  if ((code != 2)); then
    fail "$name: exit $code, not 2 ($(head -c 300 err.log))"
  elif ! grep -qiE "$pattern" err.log; then
    fail "$name: message does not match '$pattern': $(head -c 300 err.log)"
  elif [[ $before != "$after" ]]; then
    fail "$name: $output was created or changed"
  else
    pass "$name ($(head -n 1 err.log | cut -c1-110))"
  fi
}

spec() {  # spec FILE: a valid small spec
  printf 'name: hostile\nseed: 1\nfixed: {dim: 6, steps: 20, batch_size: 20, record_every: 5}\ngrid:\n  heterogeneity: [1.0, 2.0]\n' >"$1"
}

bad_spec() {  # bad_spec NAME PATTERN YAML
  printf '%b' "$3" >"$1.yaml"
  expect_refusal "$1" "$2" "$1.h5" -- "$hetsweep" run "$1.yaml" -o "$1.h5"
}

bad_spec malformed_yaml "malformed_yaml.yaml:[0-9]+:[0-9]+" 'name: x\ngrid:\n  heterogeneity: [1, 2\n'
bad_spec unclosed_quote "unclosed_quote.yaml:1:.*name" 'name: "x\nfixed: {dim: 4}\n'
bad_spec not_a_map "not_a_map.yaml.*map" '- just\n- a list\n'
bad_spec empty_file "empty_file.yaml.*empty" ''
bad_spec binary_garbage "binary_garbage.yaml" '\x00\x01\x02\xff\xfe\n'
bad_spec wrong_type_integer "wrong_type_integer.yaml:2:.*fixed.dim" 'name: x\nfixed: {dim: twenty}\n'
bad_spec wrong_type_real "wrong_type_real.yaml:3:.*heterogeneity" 'name: x\ngrid:\n  heterogeneity: [1.0, high]\n'
bad_spec wrong_type_bool "wrong_type_bool.yaml:2:.*noise" 'name: x\nfixed: {noise: true}\n'
bad_spec nan_value "nan_value.yaml:2:.*heterogeneity.*(finite|not a number)" 'name: x\nfixed: {heterogeneity: .nan}\n'
bad_spec inf_value "inf_value.yaml:3:.*step_size" 'name: x\ngrid:\n  step_size: [0.1, .inf]\n'
bad_spec zero_batch "zero_batch.yaml:2:.*batch_size" 'name: x\nfixed: {batch_size: 0}\n'
bad_spec negative_dim "negative_dim.yaml:2:.*dim" 'name: x\nfixed: {dim: -3}\n'
bad_spec negative_steps "negative_steps.yaml:2:.*steps" 'name: x\nfixed: {steps: -5}\n'
bad_spec zero_step_size "zero_step_size.yaml:2:.*step_size" 'name: x\nfixed: {step_size: 0}\n'
bad_spec zero_replicates "zero_replicates.yaml:2:.*replicates" 'name: x\nreplicates: 0\n'
bad_spec ranks_exceed_dim "ranks_exceed_dim.yaml.*spurious_rank" 'name: x\nfixed: {dim: 3, invariant_rank: 2, spurious_rank: 2}\n'
bad_spec unknown_key "unknown_key.yaml:2:.*stepsize.*step_size" 'name: x\nfixed: {stepsize: 0.1}\n'
bad_spec unknown_top_key "unknown_top_key.yaml:2:.*gird" 'name: x\ngird: {}\n'
bad_spec duplicate_key "duplicate_key.yaml:4:.*dim.*duplicate" 'name: x\nfixed:\n  dim: 4\n  dim: 5\n'
bad_spec duplicate_axis_value "duplicate_axis_value.yaml:3:.*heterogeneity" 'name: x\ngrid:\n  heterogeneity: [1.0, 1.0]\n'
bad_spec empty_axis "empty_axis.yaml:3:.*heterogeneity" 'name: x\ngrid:\n  heterogeneity: []\n'
bad_spec fixed_and_swept "fixed_and_swept.yaml.*dim" 'name: x\nfixed: {dim: 4}\ngrid:\n  dim: [4, 5]\n'
bad_spec absurd_grid "absurd_grid.yaml.*grid.*(runs|limit|1000000)" 'name: x\ngrid:\n  heterogeneity: {start: 0, stop: 1, num: 100000}\n  step_size: {start: 0.01, stop: 1, num: 100000}\n  noise: {start: 0, stop: 1, num: 100000}\n'
bad_spec absurd_trajectories "absurd_trajectories.yaml.*(record|trajector|cells)" 'name: x\nfixed: {steps: 100000000, record_every: 1}\ngrid:\n  heterogeneity: [1.0, 2.0]\n'
expect_refusal missing_spec "no_such.yaml" missing.h5 -- "$hetsweep" run no_such.yaml -o missing.h5
expect_refusal bad_flag "step-size|not a number|could not be converted" x.h5 -- "$hetsweep" simulate --step-size fast

# Inputs that passed validation once and then could not run: sizes beyond one run's memory or 64-bit
# arithmetic, specs that never end. Each is refused at once (timeout: a hang fails the case, not the suite).
bad_spec huge_batch "huge_batch.yaml:2:.*fixed.batch_size.*1099511627776 is outside the allowed range \[1, 1000000000\]" 'name: x\nfixed: {batch_size: 1099511627776}\n'
bad_spec max_batch "max_batch.yaml:3:.*grid.batch_size\[1\].*9223372036854775807 is outside" 'name: x\ngrid:\n  batch_size: [100, 9223372036854775807]\n'
bad_spec overflowing_records "overflowing_records.yaml:2:.*fixed.steps.*4611686018427387904 is outside the allowed range \[0, 1000000000\]" 'name: x\nfixed: {steps: 4611686018427387904, record_every: 4611686018427387904}\n'
bad_spec million_environments "million_environments.yaml:2:.*fixed.environments.*outside the allowed range \[1, 100000\]" 'name: x\nfixed: {environments: 1000000}\n'
bad_spec dim_4096 "dim_4096.yaml:2:.*fixed.dim.*4096 is outside the allowed range \[1, 1024\]" 'name: x\nfixed: {dim: 4096}\n'
bad_spec run_beyond_memory "run_beyond_memory.yaml:5:3: grid.environments: one run would need about .* of memory, mostly for the environments; a run may take at most .*\(at dim = 1024, environments = 100000\)" 'name: x\nfixed: {sampler: materialized}\ngrid:\n  dim: [8, 1024]\n  environments: [2, 100000]\n'
for device in /dev/zero /dev/urandom; do
  expect_refusal "spec_$(basename $device)" "^hetsweep: $device: the spec must be a regular file, but this is a character device" device.h5 -- timeout 10 "$hetsweep" run "$device" -o device.h5
  expect_refusal "plan_$(basename $device)" "^hetsweep: $device: the spec must be a regular file" device.h5 -- timeout 10 "$hetsweep" plan "$device"
done
mkfifo fifo.yaml
expect_refusal spec_fifo "^hetsweep: fifo.yaml: the spec must be a regular file, but this is a FIFO" fifo.h5 -- timeout 10 "$hetsweep" run fifo.yaml -o fifo.h5
{ printf 'name: x\n'; head -c 1048576 /dev/zero | tr '\0' '#'; printf '\n'; } >large.yaml
expect_refusal spec_over_1mib "^hetsweep: large.yaml: the spec is 1048585 bytes, more than the limit of 1048576 bytes \(1 MiB\)" large.h5 -- timeout 10 "$hetsweep" run large.yaml -o large.h5

# simulate validates its flags as a spec's values, with the same messages naming the flag, and reads its
# seed strictly as 0..2^64-1.
simulate_refuses() {  # simulate_refuses NAME PATTERN FLAG...
  local name=$1 pattern=$2
  shift 2
  expect_refusal "simulate_$name" "$pattern" simulate.out -- timeout 10 "$hetsweep" simulate "$@"
}
simulate_refuses seed_negative "^hetsweep: --seed: -1 is negative; expected an integer from 0 to 18446744073709551615" --seed -1
simulate_refuses seed_2_64 "^hetsweep: --seed: 18446744073709551616 does not fit in 64 bits" --seed 18446744073709551616
simulate_refuses seed_text "^hetsweep: --seed: expected an integer from 0 to 18446744073709551615, got the string \"abc\"" --seed abc
simulate_refuses seed_fraction "^hetsweep: --seed: 1.5 is not an integer" --seed 1.5
simulate_refuses huge_batch "^hetsweep: --batch-size: 1099511627776 is outside the allowed range \[1, 1000000000\]" --batch-size 1099511627776
simulate_refuses billion_environments "^hetsweep: --environments: 1000000000 is outside the allowed range \[1, 100000\]" --environments 1000000000
simulate_refuses overflowing_records "^hetsweep: --(steps|record-every): 4611686018427387904 is outside the allowed range" --steps 4611686018427387904 --record-every 4611686018427387904
simulate_refuses dim_4096 "^hetsweep: --dim: 4096 is outside the allowed range \[1, 1024\]" --dim 4096 --steps 1
simulate_refuses beyond_memory "^hetsweep: --environments: one run would need about .* of memory, mostly for the environments" --dim 1024 --environments 100000 --steps 1
simulate_refuses step_size_message "^hetsweep: --step-size: -0.5 is outside the allowed range \(0, inf\]" --step-size -0.5
simulate_refuses integer_syntax "^hetsweep: --dim: 2.5 is not an integer" --dim 2.5
simulate_refuses choice_suggestion "^hetsweep: --algorithm: 'hetro' is not one of .*did you mean 'hetero'" --algorithm hetro
for seed in 0 18446744073709551615 1e3; do
  if timeout 10 "$hetsweep" simulate --seed "$seed" --steps 2 --json >seed.out 2>err.log && grep -q '"status": "done"' seed.out; then
    pass "simulate_seed_$seed accepted"
  else
    fail "simulate_seed_$seed: $(head -c 300 err.log)"
  fi
done

# plan answers at the extremes of the valid ranges without running a full-size step there (its time is in
# the commit note, not asserted).
printf 'name: extreme\nseed: 1\nfixed: {dim: 1024, batch_size: 10000000, steps: 1000000000, record_every: 1000000000, basis: random}\ngrid:\n  algorithm: [hetero, pooled, pooled_gd]\n  sampler: [exact, materialized]\n' >extreme.yaml
code=0
timeout 60 "$hetsweep" plan extreme.yaml >plan.out 2>err.log || code=$?
if ((code == 0)) && grep -q "^runs: 6$" plan.out && grep -q "^SGD steps: 6e+09 in all" plan.out && grep -q "estimated cost: .* extrapolated" plan.out; then
  pass "plan_at_the_extremes ($(grep 'estimated cost' plan.out | cut -c1-110))"
else
  fail "plan_at_the_extremes: exit $code: $(head -c 300 err.log) $(tail -n 3 plan.out)"
fi

spec good.yaml
mkdir -p a_directory && touch a_directory/keep
expect_refusal output_is_directory "a_directory" a_directory -- "$hetsweep" run good.yaml -o a_directory
expect_refusal output_unwritable "/sys/hetsweep" /sys/hetsweep.h5 -- "$hetsweep" run good.yaml -o /sys/hetsweep.h5
expect_refusal output_parent_missing "no/such/dir" no/such/dir/out.h5 -- "$hetsweep" run good.yaml -o no/such/dir/out.h5
echo "just some text, not HDF5" >text.h5
expect_refusal output_is_text "text.h5" text.h5 -- "$hetsweep" run good.yaml -o text.h5
/usr/bin/python3 -c 'import h5py; f = h5py.File("other.h5", "w"); f["data"] = [1, 2, 3]; f.attrs["format"] = "something-else"'
expect_refusal output_of_other_program "other.h5.*(hetsweep|format)" other.h5 -- "$hetsweep" run good.yaml -o other.h5
/usr/bin/python3 -c 'import h5py; f = h5py.File("plain.h5", "w"); f["x"] = 1'
expect_refusal output_hdf5_without_format "plain.h5.*(hetsweep|format)" plain.h5 -- "$hetsweep" run good.yaml -o plain.h5

"$hetsweep" run good.yaml -o done.h5 2>/dev/null
spec other_spec.yaml && sed -i 's/seed: 1/seed: 2/' other_spec.yaml
expect_refusal output_of_other_spec "seed" done.h5 -- "$hetsweep" run other_spec.yaml -o done.h5
expect_refusal status_of_text_file "text.h5" text.h5 -- "$hetsweep" status text.h5
cp done.h5 truncated.h5 && truncate -s $(($(stat -c %s done.h5) / 2)) truncated.h5
expect_refusal truncated_results "truncated.h5" truncated.h5 -- "$hetsweep" run good.yaml -o truncated.h5
expect_refusal truncated_report "truncated.h5" truncated.h5 -- "$hetsweep" report truncated.h5
cp done.h5 headless.h5 && printf 'garbage!' | dd of=headless.h5 bs=1 conv=notrunc status=none
expect_refusal corrupted_signature "headless.h5" headless.h5 -- "$hetsweep" run good.yaml -o headless.h5

# Corruption anywhere in the file: the command may refuse (2) or, if the bytes hit unused space, work (0);
# it must never crash, and a refusal leaves the file as it was.
size=$(stat -c %s done.h5)
for offset in 64 512 1024 2048 4096 $((size / 3)) $((size / 2)) $((size - 600)); do
  cp done.h5 corrupt.h5
  printf '\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of=corrupt.h5 bs=1 seek=$offset conv=notrunc status=none
  before=$(sha256sum corrupt.h5)
  code=0
  "$hetsweep" status corrupt.h5 >/dev/null 2>err.log || code=$?
  if ((code == 0)) || { ((code == 2)) && [[ $(sha256sum corrupt.h5) == "$before" ]]; }; then
    pass "corrupted_at_$offset (exit $code)"
  else
    fail "corrupted_at_$offset: exit $code: $(head -c 200 err.log)"
  fi
done

# A full disk, on a small tmpfs: too small to create the file (exit 2, nothing left behind), then room for
# the file but not the results (exit 1 naming the cause; what was flushed is kept and resumes bit-identical
# once there is room).
printf 'name: big\nseed: 1\nfixed: {dim: 6, steps: 2000, batch_size: 20, record_every: 1}\ngrid:\n  heterogeneity: {start: 0, stop: 5, num: 50}\n' >big.yaml
disk=$workdir/small_disk
mkdir -p "$disk"
if mount -t tmpfs -o size=16k tmpfs "$disk" 2>/dev/null; then
  trap 'umount "$disk" 2>/dev/null' EXIT
  expect_refusal disk_full_on_create "big.h5: cannot be created.*(space|write)" "$disk/big.h5" -- "$hetsweep" run big.yaml -o "$disk/big.h5"
  [[ -z $(ls -A "$disk") ]] && pass "disk_full_on_create left no file" || fail "disk_full_on_create left $(ls -A "$disk")"
  mount -o remount,size=96k "$disk"
  code=0
  "$hetsweep" run big.yaml -o "$disk/big.h5" >/dev/null 2>err.log || code=$?
  if ((code == 1)) && grep -q "writing results failed" err.log && grep -q "No space left" err.log && grep -q "run the same command to resume" err.log; then
    pass "disk_full_midway (exit 1, cause and remedy named)"
  else
    fail "disk_full_midway: exit $code: $(head -c 300 err.log)"
  fi
  mount -o remount,size=64m "$disk"
  "$hetsweep" run big.yaml -o big_reference.h5 2>/dev/null
  if "$hetsweep" run big.yaml -o "$disk/big.h5" 2>/dev/null && /usr/bin/python3 "$here/../deploy/compare_results.py" equal big_reference.h5 "$disk/big.h5"; then
    pass "disk_full_midway resumed bit-identical once there was room"
  else
    fail "disk_full_midway did not resume to the reference"
  fi
else
  echo "SKIP: disk full cases (cannot mount a tmpfs here)"
fi

# The output through a symbolic link is the link's target, made, resumed and replaced there; the link stays.
mkdir -p real
ln -sfn real/linked.h5 linked.h5  # dangling until the first run
code=0
timeout 60 "$hetsweep" run good.yaml -o linked.h5 >/dev/null 2>err.log || code=$?
if ((code == 0)) && [[ -L linked.h5 && -f real/linked.h5 && ! -L real/linked.h5 ]] &&
  timeout 60 "$hetsweep" run good.yaml -o linked.h5 2>err2.log && grep -q "computed 0 runs" err2.log &&
  timeout 60 "$hetsweep" run good.yaml -o linked.h5 --restart 2>/dev/null && [[ -L linked.h5 ]] &&
  [[ -z $(ls -A real | grep -v '^linked.h5$') ]]; then
  pass "output_dangling_symlink creates, resumes and restarts its target"
else
  fail "output_dangling_symlink: exit $code: $(head -c 300 err.log)"
fi
long=$(printf 'x%.0s' $(seq 5000))
expect_refusal output_name_too_long "File name too long" "$long.h5" -- timeout 10 "$hetsweep" run good.yaml -o "$long.h5"
cp good.yaml victim.yaml
expect_refusal restart_onto_the_spec "victim.yaml.*replaces only a hetsweep results file or an empty file" victim.yaml -- timeout 10 "$hetsweep" run victim.yaml -o victim.yaml --restart
expect_refusal restart_onto_a_text_file "text.h5.*replaces only a hetsweep results file" text.h5 -- timeout 10 "$hetsweep" run good.yaml -o text.h5 --restart

# A file truncated under a running sweep: the writer sees it at its next flush and stops with exit 1 naming
# what happened, instead of reporting success into a file that is no longer whole.
rm -f cut.h5
"$hetsweep" run "$here/data/slow.yaml" -o cut.h5 >/dev/null 2>cut.log &
sweep=$!
finished=0
for ((i = 0; i < 600 && finished < 3; i++)); do
  finished=$(/usr/bin/python3 "$here/../deploy/compare_results.py" finished cut.h5 2>/dev/null || echo 0)
  ((finished < 3)) && sleep 0.05
done
truncate -s $(($(stat -c %s cut.h5) / 2)) cut.h5
code=0
wait "$sweep" || code=$?
if ((code == 1)) && grep -q "cut.h5: was truncated while this sweep wrote it" cut.log; then
  pass "truncated_under_the_writer (exit 1, $(grep -o 'was truncated[^;]*' cut.log | head -n 1))"
else
  fail "truncated_under_the_writer: exit $code after $finished finished runs: $(head -c 300 cut.log)"
fi

# --retry-failed computes failed runs again, and only with the flag. No valid input makes a run fail, so a
# finished file's row is marked failed by hand.
cp done.h5 retry.h5
/usr/bin/python3 -c 'import h5py
with h5py.File("retry.h5", "r+") as f:
    row = f["runs"][1]; row["status"] = 3; f["runs"][1] = row'
if "$hetsweep" run good.yaml -o retry.h5 2>retry.log && grep -q "computed 0 runs" retry.log &&
  "$hetsweep" status retry.h5 | grep -q "failed      1" &&
  "$hetsweep" run good.yaml -o retry.h5 --retry-failed 2>retry.log && grep -q "computed 1 runs" retry.log &&
  /usr/bin/python3 "$here/../deploy/compare_results.py" equal done.h5 retry.h5 >/dev/null; then
  pass "retry_failed recomputes the failed run only when asked, to the same results"
else
  fail "retry_failed: $(head -c 300 retry.log)"
fi

echo "$passed passed, $failed failed"
((failed == 0))
