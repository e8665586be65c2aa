#!/usr/bin/env bash
# bench-read.sh — how fast traccia reads JSON-lines evidence, and how much
# memory it needs, on generated Windows events (bench/gen_events.c, fixed
# seed). Not a test: it measures and prints a table for docs/PERFORMANCE.md.
#
#   bench/bench-read.sh                  1 GiB file, 5 runs each
#   SIZE=256M RUNS=3 bench/bench-read.sh
#
# Reports the median of RUNS runs (the machines are shared and noisy) of:
# MB/s and events/s of `traccia hunt` (read + flatten + index every event),
# and peak RSS from /usr/bin/time -v — at SIZE and at SIZE/4, to show that
# memory does not grow with the input. For scale, the same file is read by
# general-purpose JSON parsers when installed (jq; python3's json module on
# a quarter of it). The data file is kept under bench/data/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1G}
SEED=${SEED:-42}
RUNS=${RUNS:-5}
mkdir -p bench/data
cc -std=c17 -O2 -D_GNU_SOURCE -o bench/data/gen_events bench/gen_events.c
make -s all

to_bytes() { numfmt --from=iec "$1"; }
quarter=$(( $(to_bytes "$SIZE") / 4 ))

gen() { # size -> path
  local f="bench/data/events-$1-seed$SEED.jsonl"
  [ -s "$f" ] || bench/data/gen_events --size "$1" --seed "$SEED" --out "$f" >&2
  echo "$f"
}
big=$(gen "$SIZE")
small=$(gen "$quarter")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# run CMD... -> prints "seconds maxrss_kb"; stdout of the command to bench/data/last.out
timed() {
  /usr/bin/time -f "%e %M" -o bench/data/time.txt "$@" > bench/data/last.out 2>/dev/null
  tail -n 1 bench/data/time.txt # after "Command exited with non-zero status", if any
}

measure_traccia() { # file -> "median_s rss_kb events"
  local f=$1 secs=() rss=0
  cat "$f" > /dev/null # page cache warm: measure parsing, not the disk
  for _ in $(seq "$RUNS"); do
    read -r s m < <(timed build/traccia hunt -q "$f")
    secs+=("$s"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local ev
  ev=$(grep '^  events:' bench/data/last.out | head -1 | tr -dc '0-9')
  echo "$(printf '%s\n' "${secs[@]}" | median) $rss $ev"
}

bytes_big=$(stat -c %s "$big")
bytes_small=$(stat -c %s "$small")
read -r t_big rss_big ev_big < <(measure_traccia "$big")
read -r t_small rss_small ev_small < <(measure_traccia "$small")

mbps() { awk -v b="$1" -v t="$2" 'BEGIN {printf "%.0f", b / 1e6 / t}'; }
eps() { awk -v e="$1" -v t="$2" 'BEGIN {printf "%.0f", e / t}'; }

echo
echo "machine: $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo)"
echo "traccia $(build/traccia version | awk '{print $2}'), $(cc --version | head -1)"
echo
printf '| tool | input | MB/s | events/s | peak RSS |\n|---|---|---|---|---|\n'
printf '| traccia hunt | %s MB, %s events | %s | %s | %s MiB |\n' $((bytes_big / 1000000)) "$ev_big" \
  "$(mbps "$bytes_big" "$t_big")" "$(eps "$ev_big" "$t_big")" $((rss_big / 1024))
printf '| traccia hunt | %s MB, %s events | %s | %s | %s MiB |\n' $((bytes_small / 1000000)) "$ev_small" \
  "$(mbps "$bytes_small" "$t_small")" "$(eps "$ev_small" "$t_small")" $((rss_small / 1024))

if command -v jq > /dev/null; then
  secs=()
  for _ in $(seq "$RUNS"); do read -r s m < <(timed jq -c empty "$small"); secs+=("$s"); done
  t=$(printf '%s\n' "${secs[@]}" | median)
  printf '| jq -c empty | %s MB | %s | %s | %s MiB |\n' $((bytes_small / 1000000)) "$(mbps "$bytes_small" "$t")" \
    "$(eps "$ev_small" "$t")" $((m / 1024))
fi
if command -v python3 > /dev/null; then
  secs=()
  for _ in $(seq "$RUNS"); do
    read -r s m < <(timed python3 -c 'import json,sys
for line in open(sys.argv[1], "rb"): json.loads(line)' "$small")
    secs+=("$s")
  done
  t=$(printf '%s\n' "${secs[@]}" | median)
  printf '| python3 json.loads per line | %s MB | %s | %s | %s MiB |\n' $((bytes_small / 1000000)) \
    "$(mbps "$bytes_small" "$t")" "$(eps "$ev_small" "$t")" $((m / 1024))
fi
echo
echo "medians of $RUNS runs; page cache warm; seed $SEED"
