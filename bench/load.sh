#!/bin/sh
# The clinic service under load: `iptplan serve` with its defaults, then
# POST /api/plan with the examples at 1, 8 and 64 concurrent clients
# (bench/load.cpp), then the server's memory after 1,000 requests and after
# 100,000: it must not grow without bound (within 10%).
#
#   bench/load.sh            # from the top of the source tree, after a build
# Environment: IPTPLAN (default build/cli/iptplan), LOAD (build/bench/iptplan_load),
# REQUESTS (per concurrency level, default 5000).
set -eu
iptplan=${IPTPLAN:-build/cli/iptplan}
load=${LOAD:-build/bench/iptplan_load}
requests=${REQUESTS:-5000}
log=$(mktemp)
"$iptplan" serve --listen 127.0.0.1:0 --log-level warn 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 50); do
  port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$log"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "iptplan serve (defaults) on $(nproc) cores; $(ls examples/*.toml | wc -l) example findings files, in turn"
for c in 1 8 64; do
  "$load" "$port" "$c" "$requests" examples/*.toml
done
"$load" "$port" 8 1000 examples/*.toml >/dev/null
after_1k=$(rss)
"$load" "$port" 8 100000 examples/*.toml >/dev/null
after_100k=$(rss)
echo "memory: ${after_1k} kB after 1,000 more requests, ${after_100k} kB after 100,000 more"
awk -v a="$after_1k" -v b="$after_100k" 'BEGIN { g = (b - a) * 100 / a; printf "growth: %.1f%% (%s)\n", g, (g <= 10 ? "within 10%" : "MORE THAN 10%"); exit (g <= 10 ? 0 : 1) }'
