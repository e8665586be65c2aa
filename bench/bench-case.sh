#!/usr/bin/env bash
# bench-case.sh — what a case costs. Two measurements, for docs/PERFORMANCE.md
# (not a test):
#
#  1. `traccia hunt` with the whole SigmaHQ ruleset over the 1 GiB EVTX
#     benchmark file (bench/make-big-evtx.c: real chunks of ../shared/evtx),
#     without and with `--case` (a fresh case each run: every finding
#     written, the file hashed), with one thread and with every core. Runs
#     alternate, so that a disturbance on a shared machine hits both kinds;
#     medians of RUNS, peak RSS from /usr/bin/time. Goal: at most 10% more
#     time with the case.
#  2. Findings per second into SQLite: bench/bench-case.c hands COUNT
#     generated findings to the case sink as a hunt's writer would. Goal:
#     at least 200,000 findings/s.
#
#   bench/bench-case.sh                       1 GiB, 3 runs, 1,000,000 findings
#   SIZE=256M RUNS=5 COUNT=2000000 bench/bench-case.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1G}
RUNS=${RUNS:-3}
COUNT=${COUNT:-1000000}
S=../shared/sigma
[ -d "$S/rules" ] || { echo "bench-case: $S/rules not found" >&2; exit 1; }
mkdir -p bench/data
make -s all
cc -std=c17 -O2 -D_GNU_SOURCE -o bench/data/make-big-evtx bench/make-big-evtx.c -lz
cc -std=c17 -O2 -D_GNU_SOURCE -Iinclude -o bench/data/bench-case bench/bench-case.c build/libtraccia.a \
  $(pkg-config --libs zlib yaml-0.1 libpcre2-8 libhs sqlite3) -lm -pthread
f=bench/data/big-$SIZE.evtx
[ -s "$f" ] || bench/data/make-big-evtx --size "$SIZE" --out "$f" ../shared/evtx >/dev/null
rules=()
for d in rules rules-emerging-threats rules-threat-hunting rules-compliance rules-placeholder; do
  rules+=(--rules "$S/$d")
done
db=bench/data/bench-hunt-case.db

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "traccia $(build/traccia version | cut -d' ' -f2), $(nproc) cores, $(date -u +%F), $(stat -c %s "$f" | awk '{printf "%.0f MB", $1/1e6}') EVTX"
echo "| threads | without a case | with --case | overhead | peak RSS without / with | findings in the case |"
echo "|---|---|---|---|---|---|"
cat "$f" >/dev/null
for j in 1 "$(nproc)"; do
  plain=() cased=() rss_p=0 rss_c=0 findings=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o bench/data/time.txt build/traccia hunt -q -j "$j" "${rules[@]}" "$f" >/dev/null 2>&1 || true
    read -r s m < <(tail -n 1 bench/data/time.txt); plain+=("$s"); [ "$m" -gt "$rss_p" ] && rss_p=$m
    rm -f "$db" "$db-wal" "$db-shm"
    /usr/bin/time -f "%e %M" -o bench/data/time.txt build/traccia hunt -q -j "$j" "${rules[@]}" --case "$db" "$f" >/dev/null 2>&1 || true
    read -r s m < <(tail -n 1 bench/data/time.txt); cased+=("$s"); [ "$m" -gt "$rss_c" ] && rss_c=$m
    findings=$(sqlite3 "$db" "SELECT count(*) FROM findings")
  done
  mp=$(printf '%s\n' "${plain[@]}" | median)
  mc=$(printf '%s\n' "${cased[@]}" | median)
  awk -v j="$j" -v p="$mp" -v c="$mc" -v rp="$rss_p" -v rc="$rss_c" -v n="$findings" 'BEGIN {
    printf "| %s | %.2f s | %.2f s | %+.1f%% | %.0f / %.0f MiB | %d |\n", j, p, c, (c - p) / p * 100, rp/1024, rc/1024, n }'
done
echo
echo "findings into SQLite (bench/bench-case.c, $COUNT generated findings, median of $RUNS):"
rates=()
for _ in $(seq "$RUNS"); do
  line=$(/usr/bin/time -f "rss_kb=%M" -o bench/data/time.txt bench/data/bench-case --count "$COUNT" --out bench/data/bench-case.db)
  echo "  $line $(cat bench/data/time.txt)"
  rates+=("$(echo "$line" | tr ' ' '\n' | sed -n 's/^per_second=//p')")
done
echo "  median: $(printf '%s\n' "${rates[@]}" | median) findings/s"
rm -f bench/data/bench-case.db* "$db" "$db-wal" "$db-shm"
