#!/bin/bash
# fuzz-regress.sh: every libFuzzer target (tests/fuzz/fuzz_*.c, built with clang and
# ASan+UBSan) run once over its checked-in seed corpus and its saved crash inputs
# (tests/fuzz/run.sh -r). Seconds, not minutes, and it finds what a gcc build does not:
# clang's UBSan reports a zero offset applied to a null pointer, which a new
# [users]-style section without an object hit on the first seed (CI's 30 s fuzz run
# found it after 48 minutes; this finds it in the suite).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=$(tests/fuzz/run.sh -r 2>&1) || { printf '%s\n' "$out"; echo "FAIL: a fuzz target failed on its seeds"; exit 1; }
printf '%s\n' "$out"
n=$(printf '%s\n' "$out" | grep -c 'regress: .* ok$' || true)
targets=$(ls tests/fuzz/fuzz_*.c | wc -l)
[ "$n" -gt 0 ] || { echo "FAIL: no target reported (empty output)"; exit 1; }
[ "$n" -eq "$targets" ] || { echo "FAIL: $n of $targets targets reported ok"; exit 1; }
echo "ok - $n fuzz targets clean on their seeds and saved inputs"
