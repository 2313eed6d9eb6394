#!/usr/bin/env bash
# iptplan batch against CLIPS 6.30 on the same generated rules and clients.
#
#   bench/run.sh [small|all|A|B|C]...      (default: all)
#
#   small  50 rules,     30 findings,    500 clients   (a quick try)
#   A      50 rules,     30 findings, 10,000 clients
#   B   1,000 rules,    100 findings, 10,000 clients
#   C  10,000 rules,    200 findings,  1,000 clients
#   all    A, B and C
#
# For each size, in bench/out/<size>/ (git-ignored; see bench/generate.py
# for what is in it):
#   1. generate the rule set, the clients and their CLIPS translation
#      (kept while generate.py and the arguments are unchanged);
#   2. iptplan check the rule set;
#   3. run CLIPS twice, `clips -f2 run.clp` (every client at once, one run)
#      and `clips -f2 stream.clp` (one client at a time), and check that
#      both print the same lines;
#   4. plan a sample of clients one by one with `iptplan plan --format json`
#      and compare them with CLIPS (the check that needs no `batch`);
#   5. `iptplan batch --rules rules clients.jsonl` and compare every client
#      with CLIPS (bench/compare.py);
# each run under /usr/bin/time -f '%e %M %U %S' (wall seconds, peak KB,
# user and system CPU seconds; with REPEAT=N the fastest of N runs). Then
# one table for all sizes.
#
# Environment: IPTPLAN (the binary; default build/cli/iptplan or
# build/iptplan), JOBS (iptplan batch -j; default: its own, one per core),
# SAMPLE (clients checked with `iptplan plan`, default 20), SEED (default 1),
# REPEAT (runs of each timed command, the fastest reported; default 1),
# BENCH_OUT (default bench/out), TIMEOUT (seconds per run, default 3600).
#
# Exit status: 0 when every step of every size succeeded and both engines
# agreed everywhere, 1 otherwise (the table still shows what ran).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${BENCH_OUT:-$here/out}
seed=${SEED:-1}
sample=${SAMPLE:-20}
limit=${TIMEOUT:-3600}
repeat=${REPEAT:-1}

die() { echo "run.sh: $*" >&2; exit 2; }

iptplan=${IPTPLAN:-}
if [[ -z $iptplan ]]; then
  for candidate in "$root/build/cli/iptplan" "$root/build/iptplan"; do
    [[ -x $candidate ]] && { iptplan=$candidate; break; }
  done
fi
[[ -n $iptplan && -x $iptplan ]] || die "no iptplan binary: build it, or set IPTPLAN"
command -v clips >/dev/null || die "clips is not installed (apt-get install -y clips)"
command -v python3 >/dev/null || die "python3 is not installed (apt-get install -y python3)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is not installed (apt-get install -y time)"

# size name -> "RULES FINDINGS CLIENTS"
declare -A sizes=([small]="50 30 500" [A]="50 30 10000" [B]="1000 100 10000" [C]="10000 200 1000")
order=()
for arg in "${@:-all}"; do
  case $arg in
    all) order+=(A B C) ;;
    small | A | B | C) order+=("$arg") ;;
    *) die "unknown size '$arg' (small, A, B, C or all)" ;;
  esac
done

failed=0
rows=()

# timed LABEL DIR OUTFILE CMD...: run CMD in DIR, REPEAT times, stdout to
# OUTFILE, stderr to DIR/LABEL.err, and the fastest run's '%e %M %U %S' to
# DIR/LABEL.time. Stops at the first failure, with CMD's status.
timed() {
  local label=$1 dir=$2 outfile=$3 status
  shift 3
  for ((run = 1; run <= repeat; run++)); do
    (cd "$dir" && timeout "$limit" /usr/bin/time -f '%e %M %U %S' -o "$label.time.new" "$@" \
       >"$outfile" 2>"$label.err" </dev/null)
    status=$?
    if ((status != 0)); then rm -f "$dir/$label.time.new"; return "$status"; fi
    if [[ ! -s $dir/$label.time ]] ||
       awk 'NR == FNR { new = $1; next } { exit !(new < $1) }' "$dir/$label.time.new" "$dir/$label.time"; then
      mv "$dir/$label.time.new" "$dir/$label.time"
    else
      rm -f "$dir/$label.time.new"
    fi
  done
}

# "wall MB" from a .time file, or "-" when the run failed.
measure() { [[ -s $1 ]] && awk '{ printf "%.2f %.0f %.2f", $1, $2 / 1024, $3 + $4 }' "$1" || echo "- - -"; }

# A step failed: say so, with the first lines of what it printed on stderr.
fail() {
  echo "  FAILED: $1" >&2
  [[ -n ${2:-} && -s $2 ]] && sed -n '1,5p' "$2" | sed 's/^/    /' >&2
  failed=1
}

for size in "${order[@]}"; do
  read -r rules findings clients <<<"${sizes[$size]}"
  dir=$out/$size
  echo "== $size: $rules rules, $findings findings, $clients clients ($dir)"

  # 1. generate, unless an up-to-date copy is there.
  if [[ -f $dir/summary.json && $dir/summary.json -nt $here/generate.py ]] &&
     python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
sys.exit(0 if [s["rules"], s["findings"], s["clients"], s.get("seed")] == list(map(int, sys.argv[2:])) else 1)' \
       "$dir/summary.json" "$rules" "$findings" "$clients" "$seed"; then
    echo "  generated: kept"
  else
    mkdir -p "$out"
    python3 "$here/generate.py" "$rules" "$findings" "$clients" "$dir" --seed "$seed" --toml "$sample" \
      2>"$out/generate.err" || { fail "generate.py" "$out/generate.err"; continue; }
    echo "  generated: $(cat "$out/generate.err")"
    rm -f "$out/generate.err"
  fi
  rm -f "$dir"/*.time "$dir"/*.err "$dir"/clips/*.time "$dir"/clips/*.err

  # 2. the rule set must be sound.
  if ! "$iptplan" check "$dir/rules" >"$dir/check.out" 2>&1; then
    fail "iptplan check" "$dir/check.out"
    continue
  fi

  # 3. CLIPS, both ways.
  timed clips "$dir/clips" ../clips.out clips -f2 run.clp || fail "clips run.clp" "$dir/clips/clips.err"
  timed stream "$dir/clips" ../clips-stream.out clips -f2 stream.clp || fail "clips stream.clp" "$dir/clips/stream.err"
  if ! cmp -s <(LC_ALL=C sort "$dir/clips.out") <(LC_ALL=C sort "$dir/clips-stream.out"); then
    fail "CLIPS run.clp and stream.clp printed different lines"
  fi
  echo "  CLIPS: $(wc -l <"$dir/clips.out") lines"

  # 4. a sample through `iptplan plan`, one process per client.
  rm -rf "$dir/plans" && mkdir -p "$dir/plans"
  for file in "$dir"/clients/*.toml; do
    [[ -e $file ]] || break
    name=$(basename "$file" .toml)
    "$iptplan" plan --rules "$dir/rules" --format json "$file" >"$dir/plans/$name.json" 2>>"$dir/plans.err" ||
      fail "iptplan plan $name" "$dir/plans.err"
  done
  echo -n "  plan sample: "
  python3 "$here/compare.py" --subset "$dir/plans" "$dir/clips.out" || fail "iptplan plan and CLIPS differ"

  # 5. iptplan batch, every client.
  batch_ok=1
  if timed batch "$dir" iptplan.out "$iptplan" batch --rules rules ${JOBS:+-j "$JOBS"} clients.jsonl; then
    echo -n "  batch: "
    python3 "$here/compare.py" "$dir/iptplan.out" "$dir/clips.out" || { fail "iptplan batch and CLIPS differ"; batch_ok=0; }
  else
    fail "iptplan batch (exit status $?)" "$dir/batch.err"
    batch_ok=0
    rm -f "$dir/batch.time"
  fi

  read -r c_s c_mb _ <<<"$(measure "$dir/clips/clips.time")"
  read -r s_s s_mb _ <<<"$(measure "$dir/clips/stream.time")"
  read -r i_s i_mb i_cpu <<<"$(measure "$dir/batch.time")"
  ratio=$(awk -v c="$c_s" -v s="$s_s" -v i="$i_s" -v ok="$batch_ok" 'BEGIN {
    best = (c != "-" && (s == "-" || c + 0 < s + 0)) ? c : s
    if (ok == 1 && i != "-" && best != "-" && i + 0 > 0) printf "%.1f", best / i; else printf "-" }')
  rows+=("$(printf '%-6s %6s %5s %6s  %8s %7s  %8s %7s  %8s %7s %7s  %6s' \
    "$size" "$rules" "$findings" "$clients" "$c_s" "$c_mb" "$s_s" "$s_mb" "$i_s" "$i_mb" "$i_cpu" "$ratio")")
done

echo
echo "                               CLIPS run.clp    CLIPS stream.clp   iptplan batch"
printf '%-6s %6s %5s %6s  %8s %7s  %8s %7s  %8s %7s %7s  %6s\n' \
  size rules finds. clients "wall s" "peak MB" "wall s" "peak MB" "wall s" "peak MB" "CPU s" ratio
for row in "${rows[@]}"; do echo "$row"; done
echo "ratio: the faster CLIPS run's wall time over iptplan batch's (above 1: iptplan is faster)"
echo "iptplan batch: $("$iptplan" --version 2>/dev/null), ${JOBS:-all} threads on $(nproc) cores; CLIPS: one thread;" \
  "fastest of $repeat run(s) each"
exit "$failed"
