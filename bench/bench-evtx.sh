#!/usr/bin/env bash
# bench-evtx.sh — traccia's EVTX reader against evtxexport (libevtx-utils)
# on one large file made of the real chunks of ../shared/evtx
# (bench/make-big-evtx.c). Not a test: it measures and prints a table for
# docs/PERFORMANCE.md.
#
#   bench/bench-evtx.sh                   1 GiB, 3 runs each
#   SIZE=256M RUNS=5 bench/bench-evtx.sh
#
# Reports medians of RUNS runs: MB/s and records/s, and peak RSS from
# /usr/bin/time. evtxexport stops at the first record it cannot parse (it
# does not support every token the corpus holds), so its records/s is over
# the records it exported and its MB/s over the bytes up to that point is
# not comparable; records/s is the fair figure.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1G}
RUNS=${RUNS:-3}
mkdir -p bench/data
cc -std=c17 -O2 -D_GNU_SOURCE -o bench/data/make-big-evtx bench/make-big-evtx.c -lz
make -s all
file=bench/data/big-$SIZE.evtx
[ -s "$file" ] || bench/data/make-big-evtx --size "$SIZE" --out "$file" ../shared/evtx
bytes=$(stat -c %s "$file")
cat "$file" > /dev/null

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

run() { # label, records-counting command...; prints "label median_s rss_kb records"
  local label=$1; shift
  local secs=() rss=0 recs=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o bench/data/time.txt "$@" > bench/data/out.txt 2>/dev/null || true
    read -r s m < <(tail -n 1 bench/data/time.txt) # after "Command exited with non-zero status" 
    secs+=("$s"); [ "$m" -gt "$rss" ] && rss=$m
  done
  case $label in
    traccia*) recs=$(grep '^  events:' bench/data/out.txt | head -1 | tr -dc '0-9') ;;
    *) recs=$(grep -c '<Event ' bench/data/out.txt || true) ;;
  esac
  echo "$label $(printf '%s\n' "${secs[@]}" | median) $rss $recs"
}

echo "file: $file, $bytes bytes"
printf '| tool | MB/s | records/s | records | peak RSS |\n|---|---|---|---|---|\n'
cores=$(nproc)
for spec in "traccia-hunt-1-thread build/traccia hunt --no-builtin -q -j 1 $file" \
            "traccia-hunt-$cores-threads build/traccia hunt --no-builtin -q -j $cores $file" \
            "evtxexport-xml evtxexport -f xml $file"; do
  read -r label t rss recs < <(run $spec)
  awk -v l="$label" -v b="$bytes" -v t="$t" -v r="$recs" -v m="$rss" \
    'BEGIN {printf "| %s | %.0f | %.0f | %d | %d MiB |\n", l, b / 1e6 / t, r / t, r, m / 1024}'
done
echo
echo "medians of $RUNS runs, page cache warm; traccia with one thread and with every core (chunks in parallel), evtxexport single-threaded"
