#!/usr/bin/env bash
# bench-rules.sh — what rules cost: `traccia hunt -j 1` over the benchmark
# EVTX file (bench/make-big-evtx.c) with no rule (reading only), 1 rule,
# 100 rules and the whole SigmaHQ ruleset. Matching alone is the time of a
# hunt minus the time of reading. Not a test: prints a table for
# docs/PERFORMANCE.md.
#
#   bench/bench-rules.sh                  256 MiB file, 3 runs each
#   SIZE=1G RUNS=5 bench/bench-rules.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-256M}
RUNS=${RUNS:-3}
S=../shared/sigma
[ -d "$S/rules" ] || { echo "bench-rules: $S/rules not found" >&2; exit 1; }
mkdir -p bench/data
cc -std=c17 -O2 -D_GNU_SOURCE -o bench/data/make-big-evtx bench/make-big-evtx.c -lz
make -s all
file=bench/data/big-$SIZE.evtx
[ -s "$file" ] || bench/data/make-big-evtx --size "$SIZE" --out "$file" ../shared/evtx >/dev/null
cat "$file" >/dev/null

# the rule sets
one=bench/data/rules-1
hundred=bench/data/rules-100
rm -rf "$one" "$hundred"
mkdir -p "$one" "$hundred"
cp "$S/rules/windows/process_creation/proc_creation_win_whoami_all_execution.yml" "$one/"
find "$S/rules/windows" -name '*.yml' | LC_ALL=C sort | awk 'NR % 20 == 1' | head -100 | xargs -I{} cp {} "$hundred/"
full=()
for d in rules rules-emerging-threats rules-threat-hunting rules-compliance rules-placeholder; do
  full+=(--rules "$S/$d")
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

measure() { # prints "median_seconds events detections"
  local secs=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e" -o bench/data/time.txt build/traccia hunt -q -j 1 --no-builtin "$@" "$file" \
      >bench/data/out.txt 2>/dev/null || true
    secs+=("$(tail -n 1 bench/data/time.txt)")
  done
  echo "$(printf '%s\n' "${secs[@]}" | median) $(grep '^  events:' bench/data/out.txt | head -1 | tr -dc '0-9') \
$(grep '^  detections:' bench/data/out.txt | sed 's/(.*//' | tr -dc '0-9')"
}

read -r t0 events _ < <(measure)
bytes=$(stat -c %s "$file")
echo "file: $file, $bytes bytes, $events events; medians of $RUNS runs, one thread"
echo "| rules | loaded | time | MB/s | events/s | matching alone, events/s | share of read-only throughput | detections |"
echo "|---|---|---|---|---|---|---|---|"
row() { # label loaded t dets
  awk -v l="$1" -v n="$2" -v t="$3" -v t0="$t0" -v e="$events" -v b="$bytes" -v d="$4" 'BEGIN {
    m = (t > t0) ? sprintf("%.0f", e / (t - t0)) : "-";
    printf "| %s | %s | %.2f s | %.0f | %.0f | %s | %.0f%% | %d |\n", l, n, t, b/1e6/t, e/t, m, 100*t0/t, d }'
}
row "none (reading only)" 0 "$t0" 0
read -r t _ d < <(measure --rules "$one"); row "1" 1 "$t" "$d"
read -r t _ d < <(measure --rules "$hundred"); row "100" "$(ls "$hundred" | wc -l)" "$t" "$d"
n=$(build/traccia rules check -q --no-builtin "$S/rules" "$S/rules-emerging-threats" "$S/rules-threat-hunting" \
    "$S/rules-compliance" "$S/rules-placeholder" 2>/dev/null | grep '^rules loaded' | tr -s ' ' | cut -d' ' -f3)
read -r t _ d < <(measure "${full[@]}"); row "all of SigmaHQ" "$n" "$t" "$d"
# loading and compiling the whole ruleset is part of each hunt's time above
secs=()
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e" -o bench/data/time.txt build/traccia rules check -q --no-builtin "$S/rules" \
    "$S/rules-emerging-threats" "$S/rules-threat-hunting" "$S/rules-compliance" "$S/rules-placeholder" \
    >/dev/null 2>&1 || true
  secs+=("$(tail -n 1 bench/data/time.txt)")
done
echo
echo "loading and compiling all of SigmaHQ (traccia rules check): $(printf '%s\n' "${secs[@]}" | median) s (median), included above"

