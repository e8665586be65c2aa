#!/usr/bin/env bash
# bench-hunt.sh — `traccia hunt` with the whole SigmaHQ ruleset (the five
# rule folders of ../shared/sigma, about 3,800 rules) over the large EVTX
# benchmark file (bench/make-big-evtx.c: the real chunks of ../shared/evtx),
# with and without the literal prefilter. Not a test: it prints a table for
# docs/PERFORMANCE.md.
#
#   bench/bench-hunt.sh                       1 GiB and 256 MiB files, 3 runs each
#   SIZE=1G SMALL=256M RUNS=5 bench/bench-hunt.sh
#
# Medians of RUNS runs; peak RSS from /usr/bin/time. One thread, and every
# core (a large EVTX file is read in parts of chunks in parallel). The run
# without the prefilter (--no-prefilter) uses the SMALL file: it is several
# times slower.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1G}
SMALL=${SMALL:-256M}
RUNS=${RUNS:-3}
S=../shared/sigma
[ -d "$S/rules" ] || { echo "bench-hunt: $S/rules not found" >&2; exit 1; }
mkdir -p bench/data
cc -std=c17 -O2 -D_GNU_SOURCE -o bench/data/make-big-evtx bench/make-big-evtx.c -lz
make -s all
for sz in "$SIZE" "$SMALL"; do
  f=bench/data/big-$sz.evtx
  [ -s "$f" ] || bench/data/make-big-evtx --size "$sz" --out "$f" ../shared/evtx >/dev/null
done
rules=() folders=()
for d in rules rules-emerging-threats rules-threat-hunting rules-compliance rules-placeholder; do
  rules+=(--rules "$S/$d"); folders+=("$S/$d")
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

run() { # label file extra-options...
  local label=$1 file=$2; shift 2
  local secs=() rss=0 events=0 dets=0
  cat "$file" >/dev/null
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o bench/data/time.txt build/traccia hunt -q "${rules[@]}" "$@" "$file" \
      >bench/data/out.txt 2>/dev/null || true
    read -r s m < <(tail -n 1 bench/data/time.txt)
    secs+=("$s"); [ "$m" -gt "$rss" ] && rss=$m
  done
  events=$(grep '^  events:' bench/data/out.txt | head -1 | tr -dc '0-9')
  dets=$(grep '^  detections:' bench/data/out.txt | sed 's/(.*//' | tr -dc '0-9')
  local bytes med
  bytes=$(stat -c %s "$file")
  med=$(printf '%s\n' "${secs[@]}" | median)
  awk -v l="$label" -v b="$bytes" -v s="$med" -v e="$events" -v r="$rss" -v d="$dets" 'BEGIN {
    printf "| %-34s | %6.0f MB | %6.2f s | %6.1f MB/s | %8.0f ev/s | %5.0f MiB | %7d |\n",
           l, b/1e6, s, b/1e6/s, e/s, r/1024, d }'
}

echo "traccia $(build/traccia version | cut -d' ' -f2), $(nproc) cores, $(date -u +%F), rules: $(build/traccia rules check -q "${folders[@]}" 2>/dev/null | grep '^rules loaded' | tr -s ' ' | cut -d' ' -f3) loaded"
echo "| run | input | time (median of $RUNS) | throughput | events/s | peak RSS | detections |"
echo "|---|---|---|---|---|---|---|"
cores=$(nproc)
run "hunt, prefilter, 1 thread" "bench/data/big-$SIZE.evtx" -j 1
run "hunt, prefilter, $cores threads" "bench/data/big-$SIZE.evtx" -j "$cores"
run "hunt, prefilter, 1 thread" "bench/data/big-$SMALL.evtx" -j 1
run "hunt, no prefilter, 1 thread" "bench/data/big-$SMALL.evtx" -j 1 --no-prefilter
