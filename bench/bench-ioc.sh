#!/usr/bin/env bash
# bench-ioc.sh — the indicator sweep at scale: generates COUNT indicators of
# mixed types (bench/bench-ioc.c gen, fixed seed), measures how long they
# take to load and compile, and reads the EVTX benchmark file
# (bench/make-big-evtx.c: real chunks of ../shared/evtx) with and without
# the indicator matcher on every event. Not a test: it prints a table for
# docs/PERFORMANCE.md. Goal: with the indicators, at least 80% of the
# throughput without them.
#
#   bench/bench-ioc.sh                      1,000,000 indicators, 256 MiB file, 5 runs
#   COUNT=100000 SIZE=1G RUNS=3 bench/bench-ioc.sh
#
# The two kinds of run alternate, so that a disturbance on a shared machine
# hits both; the table gives medians of wall-clock and of CPU time (user +
# system, which other jobs on the machine disturb less), and the hash of the
# sightings, which must be the same in every run.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-1000000}
SEED=${SEED:-42}
SIZE=${SIZE:-256M}
RUNS=${RUNS:-5}
mkdir -p bench/data
make -s build/libtraccia.a
cc -std=c17 -O2 -D_GNU_SOURCE -Iinclude -o bench/data/bench-ioc bench/bench-ioc.c build/libtraccia.a \
  $(pkg-config --libs zlib yaml-0.1 libpcre2-8 libhs) -lm
evtx=bench/data/big-$SIZE.evtx
if [ ! -s "$evtx" ]; then
  [ -d ../shared/evtx ] || { echo "bench-ioc: ../shared/evtx not found to build $evtx" >&2; exit 1; }
  cc -std=c17 -O2 -D_GNU_SOURCE -o bench/data/make-big-evtx bench/make-big-evtx.c -lz
  bench/data/make-big-evtx --size "$SIZE" --out "$evtx" ../shared/evtx >/dev/null
fi
iocs=bench/data/iocs-$COUNT-seed$SEED.txt
[ -s "$iocs" ] || bench/data/bench-ioc gen --count "$COUNT" --seed "$SEED" --out "$iocs"
cat "$evtx" "$iocs" >/dev/null # page cache warm

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

: >bench/data/ioc-base.txt
: >bench/data/ioc-with.txt
for _ in $(seq "$RUNS"); do
  bench/data/bench-ioc hunt "$evtx" >>bench/data/ioc-base.txt
  bench/data/bench-ioc hunt --ioc "$iocs" "$evtx" >>bench/data/ioc-with.txt
done

row() { # label file
  local f=$2
  local wall cpu load ev mb hashes sightings rss
  wall=$(field hunt_s <"$f" | median)
  cpu=$(field cpu_s <"$f" | median)
  load=$(field load_s <"$f" | median)
  rss=$(field rss_mib <"$f" | sort -n | tail -1)
  ev=$(field events <"$f" | head -1)
  mb=$(field bytes <"$f" | head -1)
  sightings=$(field sightings <"$f" | head -1)
  hashes=$(field hash <"$f" | sort -u | wc -l)
  awk -v l="$1" -v w="$wall" -v c="$cpu" -v ld="$load" -v b="$mb" -v e="$ev" -v s="$sightings" -v r="$rss" \
      -v h="$hashes" 'BEGIN {
    printf "| %-22s | %5.2f s | %6.3f s | %6.3f s | %6.1f MB/s | %8.0f ev/s | %6d | %4d MiB |%s\n",
           l, ld, w, c, b/1e6/c, e/c, s, r, (h == 1 ? "" : " sightings differ between runs!") }'
}

loaded=$(field indicators <bench/data/ioc-with.txt | head -1)
echo "traccia $(build/traccia version | cut -d' ' -f2), $(nproc) cores, $(date -u +%F); $evtx ($(stat -c %s "$evtx") bytes); $loaded indicators loaded of $COUNT generated (seed $SEED); medians of $RUNS runs"
echo "| run | load + compile | read + match (wall) | read + match (CPU) | throughput (CPU) | events/s (CPU) | sightings | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
row "without indicators" bench/data/ioc-base.txt
row "with $COUNT indicators" bench/data/ioc-with.txt
awk -v b="$(field cpu_s <bench/data/ioc-base.txt | median)" -v w="$(field cpu_s <bench/data/ioc-with.txt | median)" \
    -v bw="$(field hunt_s <bench/data/ioc-base.txt | median)" -v ww="$(field hunt_s <bench/data/ioc-with.txt | median)" \
    -v bm="$(field cpu_s <bench/data/ioc-base.txt | sort -n | head -1)" -v wm="$(field cpu_s <bench/data/ioc-with.txt | sort -n | head -1)" \
    -v m="$(field match_s <bench/data/ioc-with.txt | median)" -v e="$(field events <bench/data/ioc-with.txt | head -1)" \
    'BEGIN { printf "throughput with indicators: %.0f%% of without (median CPU time), %.0f%% (median wall clock), %.0f%% (fastest runs); goal 80%%\n", 100*b/w, 100*bw/ww, 100*bm/wm
             printf "time inside the matcher: %.3f s, %.2f us per event (median)\n", m, m*1e6/e }'
