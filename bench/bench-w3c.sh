#!/usr/bin/env bash
# bench-w3c.sh — how fast traccia reads IIS W3C logs, and how much memory it
# needs, on generated Exchange front-end traffic (bench/gen_w3c.c, fixed
# seed). Not a test: it measures and prints a table for docs/PERFORMANCE.md.
#
#   bench/bench-w3c.sh                   1 GiB file, 3 runs each
#   SIZE=256M RUNS=5 bench/bench-w3c.sh
#
# Measures `traccia hunt --no-builtin -q -j 1`: one thread reading every
# line completely (split into its 15 values, '+' decoded in user agents,
# integers recognised, the time computed, the event built and indexed) and
# handed to the matcher, with no rule to run — reading, not detection.
# Reports the median of RUNS runs (the machines are shared and noisy) of the
# wall time, as MB/s and lines/s, and the peak RSS from /usr/bin/time — at
# SIZE and at SIZE/4, to show that memory does not grow with the input. The
# event count is printed too: a faster reader must read the same lines. The
# data files are kept under bench/data/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1G}
SEED=${SEED:-42}
RUNS=${RUNS:-3}
mkdir -p bench/data
cc -std=c17 -O2 -D_GNU_SOURCE -o bench/data/gen_w3c bench/gen_w3c.c
make -s all

to_bytes() { numfmt --from=iec "$1"; }
quarter=$(( $(to_bytes "$SIZE") / 4 ))

gen() { # size -> path
  local f="bench/data/w3c-$1-seed$SEED.log"
  [ -s "$f" ] || bench/data/gen_w3c --size "$1" --seed "$SEED" --out "$f" >&2
  echo "$f"
}
big=$(gen "$SIZE")
small=$(gen "$quarter")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

measure() { # file -> "median_s rss_kb events skipped"
  local f=$1 secs=() rss=0
  cat "$f" > /dev/null # page cache warm: measure parsing, not the disk
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o bench/data/time.txt build/traccia hunt --no-builtin -q -j 1 "$f" \
      > bench/data/last.out 2>/dev/null
    read -r s m < <(tail -n 1 bench/data/time.txt)
    secs+=("$s"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local ev sk
  ev=$(grep '^  events:' bench/data/last.out | head -1 | tr -dc '0-9')
  sk=$(grep '^  records skipped:' bench/data/last.out | head -1 | sed 's/(.*//' | tr -dc '0-9')
  echo "$(printf '%s\n' "${secs[@]}" | median) $rss $ev ${sk:-0}"
}

bytes_big=$(stat -c %s "$big")
bytes_small=$(stat -c %s "$small")
read -r t_big rss_big ev_big sk_big < <(measure "$big")
read -r t_small rss_small ev_small sk_small < <(measure "$small")

mbps() { awk -v b="$1" -v t="$2" 'BEGIN {printf "%.0f", b / 1e6 / t}'; }
eps() { awk -v e="$1" -v t="$2" 'BEGIN {printf "%.0f", e / t}'; }

echo
echo "machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo)"
echo "traccia $(build/traccia version | awk '{print $2}'), $(cc --version | head -1)"
echo
printf '| input | lines | time (median of %s) | MB/s | lines/s | peak RSS | skipped |\n' "$RUNS"
printf '|---|---|---|---|---|---|---|\n'
printf '| %s MB | %s | %s s | %s | %s | %s MiB | %s |\n' $((bytes_big / 1000000)) "$ev_big" "$t_big" \
  "$(mbps "$bytes_big" "$t_big")" "$(eps "$ev_big" "$t_big")" $((rss_big / 1024)) "$sk_big"
printf '| %s MB | %s | %s s | %s | %s | %s MiB | %s |\n' $((bytes_small / 1000000)) "$ev_small" "$t_small" \
  "$(mbps "$bytes_small" "$t_small")" "$(eps "$ev_small" "$t_small")" $((rss_small / 1024)) "$sk_small"
echo
echo "command: build/traccia hunt --no-builtin -q -j 1 FILE; page cache warm; seed $SEED"
