#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and
# runs one of them, or all, for SECONDS each. Fails on the first finding;
# the input that triggered it is left in build-fuzz/artifacts/. Once the bug
# is fixed, copy it into tests/fuzz-regressions/<target>/ (see the README
# there), where every build replays it.
#
#   tools/fuzz.sh rules|findings|config|all [SECONDS]
#
# Seeds: the default rules, the examples and the test cases; dictionaries in
# fuzz/. The corpus grows in build-fuzz/corpus/<target>/ from run to run.
set -eu
cd "$(dirname "$0")/.."
which=${1:?usage: tools/fuzz.sh rules|findings|config|all [SECONDS]}
seconds=${2:-60}
case "$which" in
  all) targets="rules findings config" ;;
  rules|findings|config) targets=$which ;;
  *) echo "tools/fuzz.sh: unknown target '$which' (rules, findings, config or all)" >&2; exit 2 ;;
esac

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DIPTPLAN_FUZZ=ON -DIPTPLAN_TESTS=OFF >/dev/null
for t in $targets; do
  cmake --build build-fuzz -j2 --target "fuzz_$t"
done

for t in $targets; do
  corpus=build-fuzz/corpus/$t
  seeds=build-fuzz/seeds/$t
  mkdir -p "$corpus" "$seeds" build-fuzz/artifacts
  case $t in
    rules) cp rules/*.rules "$seeds"/; dict=fuzz/rules.dict ;;
    findings) cp examples/*.toml "$seeds"/; dict=fuzz/toml.dict ;;
    config) cp rules/vocabulary.toml rules/ruleset.toml rules/tests/*.toml "$seeds"/; dict=fuzz/toml.dict ;;
  esac
  cp tests/fuzz-regressions/$t/* "$seeds"/ 2>/dev/null || true
  echo "fuzzing $t for $seconds s" >&2
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=20 \
    -rss_limit_mb=3072 -dict="$dict" -artifact_prefix="build-fuzz/artifacts/$t-" \
    -print_final_stats=1 "$corpus" "$seeds"
done
echo "fuzz: no findings ($targets, $seconds s each)" >&2
