#!/usr/bin/env bash
# http_bench.sh — the HTTP side's benchmark rows (issue 14), on loopback:
#   1. SSE delivery latency: S open GET /events streams (default 100) while UDP intake runs at
#      R notes/s (default 10,000) for T seconds: p50/p99/max from the send of a note to its
#      event being read on each stream (build/rel/bench/ssebench).
#   2. Download rate over an N-note store (default 1,000,000): GET /notes (curl, JSON lines)
#      against HISTORY (build/rel/bench/tcpdrain, note lines), the median of 3 each.
# Usage: scripts/http_bench.sh [--quick] [--streams S] [--rate R] [--seconds T] [-n N]
#   --quick: 100,000 notes, 5 s of load. Needs `make all bench-tools` and curl.
# Prints one table; the machine and its load are part of the result (see BENCHMARKS.md).
set -u
cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-bin}
TOOLS=${TOOLS:-build/rel/bench}
streams=100 rate=10000 seconds=10 n=1000000
while (($#)); do
  case $1 in
    --quick) n=100000 seconds=5 ;;
    --streams) streams=$2; shift ;;
    --rate) rate=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    -n) n=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "http_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for t in "$BIN_DIR/dailynetd" "$TOOLS/ssebench" "$TOOLS/tcpdrain" "$TOOLS/loadgen"; do
  [[ -x $t ]] || { echo "http_bench.sh: $t missing: run 'make all bench-tools'" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "http_bench.sh: needs curl" >&2; exit 2; }

tmp=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

# start_server DATA_DIR ARGS...: starts dailynetd on a free port; sets pid and port.
start_server() {
  local dir=$1
  shift
  "$BIN_DIR/dailynetd" --port 0 --data "$dir" -q "$@" >"$tmp/ready" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 600); do
    port=$(grep -o 'tcp=127.0.0.1:[0-9]*' "$tmp/ready" 2>/dev/null | cut -d: -f2)
    [[ -n $port ]] && return 0
    sleep 0.1
  done
  echo "http_bench.sh: dailynetd did not start: $(cat "$tmp/err")" >&2
  exit 1
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null; pid=""; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. SSE latency under UDP load (--fsync never: the latency of the event path, not the disk's).
start_server "$tmp/sse" --fsync never
sse=$("$TOOLS/ssebench" --to "127.0.0.1:$port" --streams "$streams" --rate "$rate" --seconds "$seconds")
echo "$sse"
stop_server

# 2. /notes vs HISTORY over an N-note store.
"$TOOLS/loadgen" --make-store "$tmp/big/notes.log" -n "$n" --size 60 >/dev/null 2>&1 ||
  { mkdir -p "$tmp/big" && "$TOOLS/loadgen" --make-store "$tmp/big/notes.log" -n "$n" --size 60 >/dev/null; }
start_server "$tmp/big"
for _ in 1 2 3; do
  curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "http://127.0.0.1:$port/notes"
done >"$tmp/notes"
for _ in 1 2 3; do
  "$TOOLS/tcpdrain" --to "127.0.0.1:$port" --repeat 1 | grep -o 'seconds=[0-9.]*' | cut -d= -f2
done >"$tmp/history"
stop_server
notes_s=$(awk '{print $2}' "$tmp/notes" | median)
notes_bytes=$(head -n1 "$tmp/notes" | awk '{print $1}')
hist_s=$(median <"$tmp/history")

echo
printf '%-44s %s\n' "row" "result"
printf '%-44s %s\n' "SSE latency, $streams streams, UDP at $rate/s" \
  "$(sed -E 's/.*p50_ms=([0-9.]+) p99_ms=([0-9.]+) max_ms=([0-9.]+).*/p50 \1 ms, p99 \2 ms, max \3 ms/' <<<"$sse"); $(grep -o 'received=[0-9]* ' <<<"$sse")of $(grep -o 'expected=[0-9]*' <<<"$sse" | cut -d= -f2) events"
printf '%-44s %s\n' "GET /notes, $n notes (median of 3)" \
  "$(awk -v s="$notes_s" -v n="$n" -v b="$notes_bytes" 'BEGIN {printf "%.2f s, %.0f notes/s, %.0f MB/s of JSON", s, n/s, b/s/1e6}')"
printf '%-44s %s\n' "HISTORY, $n notes (median of 3)" \
  "$(awk -v s="$hist_s" -v n="$n" 'BEGIN {printf "%.2f s, %.0f notes/s", s, n/s}')"
printf '%-44s %s\n' "/notes time / HISTORY time" "$(awk -v a="$notes_s" -v b="$hist_s" 'BEGIN {printf "%.2fx", a/b}')"
