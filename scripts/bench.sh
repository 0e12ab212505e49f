#!/usr/bin/env bash
# bench.sh — dailynet's benchmark (issue "Performance"): runs every system side by side on
# loopback, interleaved (A B C … A B C … per repetition) so the machine's drift hits all
# alike, and prints ONE table of medians. See --help and BENCHMARKS.md.
set -u
{ # The whole script is one block, parsed before it runs: editing this file during a run
  # cannot change what the run does.

usage() {
  cat <<'EOF'
usage: scripts/bench.sh [options]

Runs the dailynet benchmark on 127.0.0.1 and prints one table (medians of the runs).
Builds its own tools first (make bench-tools); needs bin/dailynetd (run `make`).

  -n N             notes per intake run and size of the history store (default 1000000)
  -r, --reps R     repetitions, systems interleaved in each (default 3)
  --quick          smoke run: N=100000, 1 repetition
  --no-rsyslog     leave the rsyslog rows out
  --results FILE   also keep the raw per-run measurements (TSV) in FILE (scripts/plot.sh
                   draws them)
  --scale LIST     also the scale rows: for each store size in LIST (e.g. "100000 1000000
                   10000000"), start-up time and RSS, HISTORY LAST 100 and HISTORY SINCE a
                   recent time (rows scale_N; run once, not per repetition)
  --only ROWS      run only these rows (comma-separated ids, e.g. ref,dn_never,dn_never_nogso;
                   the ids are the first column of --results)
  --keep           keep the temporary directory (logs) and say where it is
  --queries        only the query rows (issue 13): HISTORY MATCH vs grep -F -i, SINCE TIME
                   vs LAST 1000, intake at 100k/s during 4 back-to-back MATCH scans
  -h, --help       this text

Rows: the reference receiver (scripts/bench/refrecv), dailynetd --fsync never / everysec /
always at full speed from one sender (never also with GSO replies off, DAILYNETD_GSO=off),
dailynetd (--fsync everysec) at fixed 50k/100k/200k notes/s (the reference too at 100k/200k), rsyslog (imudp -> omfile, private config, foreground) default and tuned at full
speed and 50k/100k, `dailynet send` of N lines (when the client supports it), HISTORY of the
N-note store vs raw sendfile() of the same file, HISTORY FROM, start-up time and RSS,
intake at 100k/s during 8 back-to-back downloads, and 1,000 TCP connections (950 idle,
50 downloading) during intake at 100k/s, and the query rows (--queries). Everything it
starts is killed by PID on exit.
rsyslog is installed with apt-get when missing and running as root (no service is
started: policy-rc.d), otherwise its rows say "skipped".
EOF
}

N=1000000
REPS=3
QUICK=0
WANT_RSYSLOG=1
RESULTS_OUT=""
KEEP=0
QUERIES_ONLY=0
ONLY=""
SCALE=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="${2:?-n wants a number}"; shift 2 ;;
    -r|--reps) REPS="${2:?--reps wants a number}"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --no-rsyslog) WANT_RSYSLOG=0; shift ;;
    --results) RESULTS_OUT="${2:?--results wants a file}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --queries) QUERIES_ONLY=1; shift ;;
    --scale) SCALE="${2:?--scale wants store sizes}"; shift 2 ;;
    --only) ONLY=",${2:?--only wants row ids},"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$QUICK" = 1 ]; then N=100000; REPS=1; fi
case "$RESULTS_OUT" in ''|/*) ;; *) RESULTS_OUT="$PWD/$RESULTS_OUT" ;; esac
case "$N" in ''|*[!0-9]*) echo "bench.sh: -n wants a number" >&2; exit 2 ;; esac
case "$REPS" in ''|*[!0-9]*) echo "bench.sh: --reps wants a number" >&2; exit 2 ;; esac
[ "$N" -ge 1000 ] || { echo "bench.sh: -n must be at least 1000" >&2; exit 2; }
[ "$REPS" -ge 1 ] && [ "$REPS" -le 9 ] || { echo "bench.sh: --reps wants 1..9" >&2; exit 2; }

# Shared helpers (process tracking and stopping by PID, the clock): scripts/lib.sh. Not its
# dn_init: the benchmark keeps its own temp dir and exit trap (no "N passed" line).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$DN_ROOT
cd "$ROOT" || exit 1
DAILYNETD="$ROOT/bin/dailynetd"
CLIENT="$ROOT/bin/dailynet"
TOOLS="$ROOT/build/rel/bench"
[ -x "$DAILYNETD" ] || { echo "bench.sh: $DAILYNETD missing: run 'make' first" >&2; exit 1; }
echo "bench: building the tools (make bench-tools)" >&2
make --no-print-directory bench-tools >/dev/null || { echo "bench.sh: make bench-tools failed" >&2; exit 1; }
LOADGEN="$TOOLS/loadgen"
REFRECV="$TOOLS/refrecv"
TCPDRAIN="$TOOLS/tcpdrain"

TMP="$(mktemp -d /tmp/dailynet-bench.XXXXXX)" || exit 1
RES="$TMP/results.tsv"   # rep <TAB> row <TAB> metric <TAB> value
ROWS="$TMP/rows.tsv"     # row <TAB> kind <TAB> label <TAB> offered <TAB> ratio-base row
: >"$RES"
: >"$ROWS"
CLK_TCK="$(getconf CLK_TCK)"
START_EPOCH=$EPOCHREALTIME

cleanup() {
  dn_stop_all   # every tracked PID (and anything else below this script): TERM, then KILL
  [ -n "$RESULTS_OUT" ] && [ -f "$RES" ] && cp "$RES" "$RESULTS_OUT"
  if [ "$KEEP" = 1 ]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

log() { printf 'bench [%4.0fs] %s\n' "$(echo "$EPOCHREALTIME $START_EPOCH" | awk '{print $1-$2}')" "$*" >&2; }
now() { dn_now; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.6f", a-b}'; }
put() { printf '%s\t%s\t%s\t%s\n' "$REP" "$1" "$2" "$3" >>"$RES"; }   # row metric value
field() { sed -n "s/.*[ ]$1=\\([^ ]*\\).*/\\1/p" <<<" $2" | head -1; }
cpu_us() {  # utime+stime of a process (all its threads), in µs
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
  s="${s##*) }"
  awk -v t="$CLK_TCK" '{printf "%.0f", ($12+$13)*1e6/t}' <<<"$s"
}
psi10() { sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null | grep . || echo 0; }  # CPU pressure, %
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# start_proc NAME CMD...: starts CMD with stdout on a FIFO, waits (at most 60 s) for its first
# line; sets SPID, SLINE, SREADY_MS, SFD.
start_proc() {
  local name="$1"; shift
  local fifo="$TMP/$name.fifo"
  rm -f "$fifo"; mkfifo "$fifo"
  local t0; t0=$(now)
  "$@" >"$fifo" 2>>"$TMP/$name.err" &
  SPID=$!
  dn_track "$SPID" "$name"
  exec {SFD}<>"$fifo"
  SLINE=""
  if ! read -r -t 60 -u "$SFD" SLINE; then
    log "$name did not print its ready line within 60 s; see $TMP/$name.err"
    tail -3 "$TMP/$name.err" >&2
    stop_proc "$SPID"
    return 1
  fi
  SREADY_MS=$(awk -v a="$(now)" -v b="$t0" 'BEGIN{printf "%.1f", (a-b)*1000}')
  return 0
}
# stop_proc PID: SIGTERM, up to 5 s, then SIGKILL; reaps it (dn_stop); closes start_proc's FIFO.
stop_proc() {
  dn_stop "$1"
  if [ -n "${SFD:-}" ]; then exec {SFD}>&-; SFD=""; fi
}
port_of() { sed -n 's/.*udp=127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$1"; }
udp_bound() { grep -qi "^ *[0-9]*: 0100007F:$(printf '%04X' "$1") " /proc/net/udp; }
free_udp_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 30000))
    udp_bound "$p" || { echo "$p"; return; }
  done
  echo 39999
}
# sample_rss PID OUTFILE: background sampler of the peak VmRSS (KiB), at most 20 min.
sample_rss() {
  local pid="$1" out="$2"
  (
    peak=0
    for ((i = 0; i < 24000; i++)); do
      r=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null) || break
      [ -n "$r" ] || break
      [ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" >"$out"; }
      sleep 0.05
    done
  ) &
  SAMPLER=$!
  dn_track "$SAMPLER" rss-sampler
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; dn_untrack "$SAMPLER"; }

# wanted ROW...: true when --only is not given or names one of the rows.
wanted() { local r; [ -z "$ONLY" ] && return 0; for r; do [[ $r == scale_* ]] && return 0; [[ $ONLY == *",$r,"* ]] && return 0; done; return 1; }
row() { wanted "$1" && printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }  # id kind label offered base

# ---------------------------------------------------------------------------------------
# rsyslog: present, or installed from Debian's package without starting any service.
RSYSLOGD=""
RSYSLOG_WHY=""
if [ "$WANT_RSYSLOG" = 0 ]; then
  RSYSLOG_WHY="skipped (--no-rsyslog)"
elif command -v rsyslogd >/dev/null 2>&1; then
  RSYSLOGD="$(command -v rsyslogd)"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "rsyslog missing: installing Debian's rsyslog package (no service started)"
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# bench.sh: no service starts during this install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog; }) \
    >"$TMP/apt.log" 2>&1
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if command -v rsyslogd >/dev/null 2>&1; then
    RSYSLOGD="$(command -v rsyslogd)"
  else
    RSYSLOG_WHY="skipped (apt-get install rsyslog failed)"
  fi
else
  RSYSLOG_WHY="skipped (rsyslog not installed; run as root to install it)"
fi

# rsyslog_conf KIND PORT DIR: a private config (work dir, output file in DIR; no /var/log).
rsyslog_conf() {
  local kind="$1" port="$2" dir="$3"
  if [ "$kind" = default ]; then
    cat <<EOF
global(workDirectory="$dir")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$port")
*.* action(type="omfile" file="$dir/out.log")
EOF
  else
    cat <<EOF
global(workDirectory="$dir" net.enableDNS="off")
module(load="imudp" batchSize="128")
input(type="imudp" address="127.0.0.1" port="$port" rcvbufSize="64m")
main_queue(queue.dequeueBatchSize="1024")
*.* action(type="omfile" file="$dir/out.log" ioBufferSize="1m")
EOF
  fi
}

# ---------------------------------------------------------------------------------------
# udp_row ROW SYSTEM RATE FSYNC: one intake run of N notes from one sender.
#   SYSTEM: ref | dn | rsyslog-default | rsyslog-tuned; RATE 0 = full speed.
udp_row() {
  local rowid="$1" sys="$2" rate="$3" fsync="$4"
  wanted "$rowid" || return
  local dir="$TMP/run"
  rm -rf "$dir"; mkdir -p "$dir"
  local file ack="" pid port
  # Acknowledgements are read (and timed) at fixed rates; at full speed the sender only
  # sends, the same for every system (the replies still cost the receiver their sendmmsg).
  case "$sys" in
    ref)
      start_proc ref "$REFRECV" --port 0 --out "$dir/notes.log" || return
      file="$dir/notes.log"; pid=$SPID; port=$(port_of "$SLINE") ;;
    dn|dn-nogso)
      local gso=on; [ "$sys" = dn-nogso ] && gso=off
      start_proc dailynetd env DAILYNETD_GSO=$gso "$DAILYNETD" --port 0 --data "$dir/data" --fsync "$fsync" || return
      file="$dir/data/notes.log"; pid=$SPID; port=$(port_of "$SLINE") ;;
    rsyslog-*)
      [ -n "$RSYSLOGD" ] || return
      port=$(free_udp_port)
      rsyslog_conf "${sys#rsyslog-}" "$port" "$dir" >"$dir/rsyslog.conf"
      : >"$dir/out.log"
      "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >>"$TMP/rsyslog.err" 2>&1 &
      pid=$!; dn_track "$pid" rsyslogd
      local i
      for ((i = 0; i < 200; i++)); do udp_bound "$port" && break; sleep 0.05; done
      udp_bound "$port" || { log "rsyslogd did not bind $port; see $TMP/rsyslog.err"; stop_proc "$pid"; return; }
      file="$dir/out.log" ;;
  esac
  [ -n "$port" ] || { log "$sys: no port in '$SLINE'"; stop_proc "$pid"; return; }
  [ "$rate" != 0 ] && case "$sys" in ref|dn*) ack=--ack ;; esac
  local tmo=120
  [ "$rate" != 0 ] && tmo=$(( N / rate * 2 + 30 ))
  local c0 c1 out
  c0=$(cpu_us "$pid")
  out=$(timeout -k 5 $((tmo + 60)) "$LOADGEN" --to "127.0.0.1:$port" -n "$N" --rate "$rate" $ack \
        --watch "$file" --quiet-ms 1500 --timeout "$tmo" --tag "$rowid.$REP" 2>>"$TMP/loadgen.err")
  c1=$(cpu_us "$pid")
  stop_proc "$pid"
  local stored; stored=$(wc -l <"$file")
  local rate_s elapsed; elapsed=$(field elapsed_s "$out")
  rate_s=$(field stored_rate "$out")
  [ -n "$out" ] || { log "$rowid: loadgen failed"; return; }
  put "$rowid" recv "$stored"
  put "$rowid" rate "$rate_s"
  put "$rowid" cpu "$(awk -v a="$c0" -v b="$c1" -v n="$stored" 'BEGIN{printf "%.3f", n ? (b-a)/n : 0}')"
  put "$rowid" achieved "$(field achieved "$out")"
  [ -n "$ack" ] && put "$rowid" p99 "$(field p99_us "$out")"
  [ -n "$ack" ] && put "$rowid" p50 "$(field p50_us "$out")"
  put "$rowid" psi "$(psi10)"
  log "$rowid: stored $stored of $N, $rate_s notes/s, elapsed $elapsed s, loadgen: $out"
}

# ---------------------------------------------------------------------------------------
# send_row ROW FSYNC: `dailynet send` of the N lines; checks exactly once, in order.
CLIENT_OK=0
probe_client() {
  [ -x "$CLIENT" ] || return 1
  local dir="$TMP/probe"; rm -rf "$dir"; mkdir -p "$dir"
  start_proc probe "$DAILYNETD" --port 0 --data "$dir/data" --fsync never || return 1
  local pid=$SPID port; port=$(port_of "$SLINE")
  printf 'bench probe\n' | timeout 10 "$CLIENT" send --host 127.0.0.1 --port "$port" >/dev/null 2>&1
  local rc=$?
  stop_proc "$pid"
  [ "$rc" = 0 ] && [ "$(wc -l <"$dir/data/notes.log")" = 1 ] &&
    [ "$(cut -f4- "$dir/data/notes.log")" = "bench probe" ]
}
send_row() {
  local rowid="$1" fsync="$2" dir="$TMP/run"
  wanted "$rowid" || return
  rm -rf "$dir"; mkdir -p "$dir"
  start_proc dailynetd "$DAILYNETD" --port 0 --data "$dir/data" --fsync "$fsync" || return
  local pid=$SPID port; port=$(port_of "$SLINE")
  local c0 c1 t0 t1 rc
  c0=$(cpu_us "$pid"); t0=$(now)
  timeout -k 5 600 "$CLIENT" send --host 127.0.0.1 --port "$port" <"$LINES" >/dev/null 2>"$dir/client.err"
  rc=$?
  t1=$(now); c1=$(cpu_us "$pid")
  stop_proc "$pid"
  local f="$dir/data/notes.log" stored exact=0
  stored=$(wc -l <"$f")
  cut -f4- "$f" | cmp -s - "$LINES" && exact=1
  put "$rowid" recv "$stored"
  put "$rowid" rate "$(awk -v n="$stored" -v a="$t1" -v b="$t0" 'BEGIN{printf "%.0f", n/(a-b)}')"
  put "$rowid" cpu "$(awk -v a="$c0" -v b="$c1" -v n="$stored" 'BEGIN{printf "%.3f", n ? (b-a)/n : 0}')"
  put "$rowid" exact "$exact"
  put "$rowid" rc "$rc"
  log "$rowid: client exit $rc, stored $stored of $N, exactly-once-in-order=$exact, $(fsub "$t1" "$t0") s"
}

# ---------------------------------------------------------------------------------------
# store_block: start-up, RSS, downloads, and intake under download load, on a copy of the
# N-note store.
T_INTAKE=$(( N / 2 ))           # notes sent at 100k/s in the two load tests
[ "$T_INTAKE" -gt 500000 ] && T_INTAKE=500000
DL_REPEAT=5
store_block() {
  wanted history sendfile from_ip from_one from_one_reuse mem_history mem_from startup t6 t5 t5copy || return
  local dir="$TMP/store"
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$PRISTINE/notes.log" "$PRISTINE/notes.chk" "$dir/"
  start_proc dailynetd "$DAILYNETD" --port 0 --data "$dir" --fsync everysec --idle-timeout 600 || return
  local pid=$SPID port; port=$(port_of "$SLINE")
  local rss0; rss0=$(rss_kib "$pid")
  put startup ready_ms "$SREADY_MS"
  put startup rss_kib "$rss0"
  put startup notes "$(field notes "$SLINE")"
  log "start-up: ready after $SREADY_MS ms, RSS $rss0 KiB: $SLINE"
  local to="127.0.0.1:$port" out

  # HISTORY vs raw sendfile of the same file, then HISTORY FROM; one connection per
  # command, as `dailynet history` does (and as the sendfile baseline does).
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "$to" --repeat "$DL_REPEAT" --fresh | tail -1)
  put history mbps "$(field MBps "$out")"; log "history: $out"
  out=$(timeout -k 5 300 "$TCPDRAIN" --sendfile "$dir/notes.log" --repeat "$DL_REPEAT" | tail -1)
  put sendfile mbps "$(field MBps "$out")"; log "sendfile: $out"
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "$to" --repeat "$DL_REPEAT" --fresh --cmd "HISTORY FROM 127.0.0.1" | tail -1)
  put from_ip mbps "$(field MBps "$out")"; log "from ip: $out"
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "$to" --repeat $((DL_REPEAT * 4)) --fresh --cmd "HISTORY FROM 127.0.0.1:40001" | tail -1)
  put from_one mbps "$(field MBps "$out")"; log "from one: $out"
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "$to" --repeat $((DL_REPEAT * 4)) --cmd "HISTORY FROM 127.0.0.1:40001" | tail -1)
  put from_one_reuse mbps "$(field MBps "$out")"; log "from one, one connection: $out"

  # Memory per downloading connection: 8 at once (no intake), HISTORY, then HISTORY FROM.
  local base peak what cmd
  for what in history from; do
    cmd="HISTORY"; [ "$what" = from ] && cmd="HISTORY FROM 127.0.0.1"
    base=$(rss_kib "$pid")
    echo "$base" >"$TMP/rss.peak"; sample_rss "$pid" "$TMP/rss.peak"
    timeout -k 5 300 "$TCPDRAIN" --to "$to" --conns 8 --repeat 2 --cmd "$cmd" >/dev/null
    stop_sampler; peak=$(cat "$TMP/rss.peak")
    put "mem_$what" per_conn_kib "$(( (peak - base) / 8 ))"
    put "mem_$what" peak_kib "$peak"
    log "memory ($cmd): RSS $base KiB before, peak $peak KiB with 8 downloads"
  done

  # Target 5: intake at 100k/s while 8 clients download the whole history back to back
  # (readers that discard in the kernel, then readers that copy); target 6: 1,000
  # connections (950 idle, 50 downloading) during intake at 100k/s.
  load_test t6 50 950 --discard
  load_test t5 8 0 --discard
  load_test t5copy 8 0
  stop_proc "$pid"
}

# load_test ROW ACTIVE IDLE [--discard]: intake of T_INTAKE notes at 100k/s from 4 sockets
# while ACTIVE connections download the history back to back and IDLE ones sit open.
load_test() {
  local rowid="$1" active="$2" idle="$3"; shift 3
  local secs; secs=$(awk -v n="$T_INTAKE" 'BEGIN{printf "%.1f", n/100000 + 0.5}')
  local dl_out="$TMP/$rowid.dl" out dl i
  sleep 0.3   # connections of the previous step are gone
  : >"$dl_out"
  timeout -k 5 600 "$TCPDRAIN" --to "$to" --idle "$idle" --conns "$active" --repeat 100000 \
    --duration "$secs" --timeout 300 "$@" >"$dl_out" &
  local dpid=$!; dn_track "$dpid" tcpdrain
  for ((i = 0; i < 600; i++)); do grep -q connected "$dl_out" && break; sleep 0.05; done
  sleep 0.2   # the downloads are under way
  # Established connections on the server's side of the TCP port.
  local open; open=$(awk -v p="$(printf '%04X' "$port")" '$2 ~ (":" p "$") && $4 == "01" {n++} END {print n+0}' /proc/net/tcp)
  put "$rowid" rss_conns_kib "$(rss_kib "$pid")"   # every connection up, before the intake
  rss_kib "$pid" >"$TMP/$rowid.rss"; sample_rss "$pid" "$TMP/$rowid.rss"
  out=$(timeout -k 5 300 "$LOADGEN" --to "$to" -n "$T_INTAKE" --rate 100000 --sockets 4 --ack \
        --watch "$dir/notes.log" --quiet-ms 1500 --timeout 120 --tag "$rowid.$REP" 2>>"$TMP/loadgen.err")
  stop_sampler
  wait "$dpid"; dn_untrack "$dpid"
  dl=$(tail -1 "$dl_out")
  put "$rowid" recv "$(field stored "$out")"
  put "$rowid" sent "$(field sent "$out")"
  put "$rowid" rate "$(field stored_rate "$out")"
  put "$rowid" achieved "$(field achieved "$out")"
  put "$rowid" p99 "$(field p99_us "$out")"
  put "$rowid" p50 "$(field p50_us "$out")"
  put "$rowid" rss_kib "$(cat "$TMP/$rowid.rss")"
  put "$rowid" conns "$open"
  put "$rowid" downloads "$(field downloads "$dl")"
  put "$rowid" dl_mbps "$(field MBps "$dl")"
  put "$rowid" psi "$(psi10)"
  log "$rowid: $out | $dl | server-side connections $open, peak RSS $(cat "$TMP/$rowid.rss") KiB"
}

# ---------------------------------------------------------------------------------------
# query_block (issue 13): on a copy of the N-note store where 1 note in 100 says "plumber"
# (same length, so the same bytes otherwise; notes.chk rebuilt at start):
#   HISTORY MATCH plumber vs grep -F -i plumber over the same notes.log, in store MB/s:
#   grep into a pipe (it reads the whole file) and grep > /dev/null (GNU grep stops at the
#   first match when its output is /dev/null, as the issue's command does);
#   HISTORY SINCE <TIME of the last 1,000 notes> vs HISTORY LAST 1000, ms per command;
#   intake at 100k/s while 4 connections run HISTORY MATCH back to back, beside the same
#   with 4 plain HISTORY downloads (SPEC: a search holds up intake no more than a HISTORY)
#   and with none.
query_block() {
  wanted q_match q_grep_pipe q_grep_null q_last q_since q_load q_load_history q_load_idle || return 0
  local dir="$TMP/qstore"
  rm -rf "$dir"; mkdir -p "$dir"
  awk -F'\t' -v OFS='\t' 'NR % 100 == 0 { $4 = substr($4, 1, 23) "plumber" substr($4, 31) } 1' \
    "$PRISTINE/notes.log" >"$dir/notes.log"
  start_proc dailynetd "$DAILYNETD" --port 0 --data "$dir" --fsync everysec --idle-timeout 600 || return
  local pid=$SPID port; port=$(port_of "$SLINE")
  local to="127.0.0.1:$port" out bytes t0 t1 i since qn=$((DL_REPEAT * 40))
  bytes=$(stat -c %s "$dir/notes.log")
  cat "$dir/notes.log" >/dev/null   # in the page cache for every reader alike
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "$to" --repeat "$DL_REPEAT" --fresh --cmd "HISTORY MATCH plumber" | tail -1)
  put q_match mbps "$(awk -v b="$bytes" -v r="$DL_REPEAT" -v s="$(field seconds "$out")" 'BEGIN{printf "%.1f", b*r/s/1e6}')"
  log "HISTORY MATCH plumber: $out"
  t0=$(now); for ((i = 0; i < DL_REPEAT; i++)); do grep -F -i plumber "$dir/notes.log" | cat >/dev/null; done; t1=$(now)
  put q_grep_pipe mbps "$(awk -v b="$bytes" -v r="$DL_REPEAT" -v s="$(fsub "$t1" "$t0")" 'BEGIN{printf "%.1f", b*r/s/1e6}')"
  t0=$(now); for ((i = 0; i < DL_REPEAT; i++)); do grep -F -i plumber "$dir/notes.log" >/dev/null; done; t1=$(now)
  put q_grep_null mbps "$(awk -v b="$bytes" -v r="$DL_REPEAT" -v s="$(fsub "$t1" "$t0")" 'BEGIN{printf "%.1f", b*r/s/1e6}')"
  since=$(tail -n 1000 "$dir/notes.log" | head -1 | cut -f2)
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "$to" --repeat "$qn" --fresh --cmd "HISTORY LAST 1000" | tail -1)
  put q_last ms "$(awk -v r="$qn" -v s="$(field seconds "$out")" 'BEGIN{printf "%.3f", s/r*1000}')"
  log "HISTORY LAST 1000: $out"
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "$to" --repeat "$qn" --fresh --cmd "HISTORY SINCE $since" | tail -1)
  put q_since ms "$(awk -v r="$qn" -v s="$(field seconds "$out")" 'BEGIN{printf "%.3f", s/r*1000}')"
  log "HISTORY SINCE $since: $out"
  load_test q_load 4 0 --cmd "HISTORY MATCH plumber"
  load_test q_load_history 4 0 --cmd "HISTORY"
  load_test q_load_idle 0 0
  stop_proc "$pid"
}

# ---------------------------------------------------------------------------------------
# Rows, in table order (--queries: the query rows alone).
# scale_block NS: one store of NS notes (10 sources, 1 ms apart): start-up, RSS, and the
# latency of two small queries on it, each the mean of 20 commands on fresh connections.
scale_block() {
  local ns="$1" dir="$TMP/scale"
  rm -rf "$dir"; mkdir -p "$dir"
  log "scale $ns: building the store"
  "$LOADGEN" --make-store "$dir/notes.log" -n "$ns" --sources 10 --tag scale
  start_proc dailynetd "$DAILYNETD" --port 0 --data "$dir" --fsync never || return
  log "scale $ns: first start (rebuilds notes.chk) after $SREADY_MS ms"
  stop_proc "$SPID"; rm -f "$dir/LOCK"
  sync
  start_proc dailynetd "$DAILYNETD" --port 0 --data "$dir" --fsync never || return
  local pid=$SPID port; port=$(port_of "$SLINE")
  put "scale_$ns" ready_ms "$SREADY_MS"
  put "scale_$ns" rss_kib "$(rss_kib "$pid")"
  # The store's note i has TIME 1795000000000 + i - 1 ms: SINCE the 100th newest.
  local since out secs
  since=$(date -u -d "@$(( (1795000000000 + ns - 100) / 1000 ))" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $(( (1795000000000 + ns - 100) % 1000 )))Z
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "127.0.0.1:$port" --repeat 20 --fresh --cmd "HISTORY LAST 100" | tail -1)
  secs=$(field seconds "$out")
  put "scale_$ns" last100_ms "$(awk -v s="$secs" 'BEGIN{printf "%.3f", s * 1000 / 20}')"
  log "scale $ns: HISTORY LAST 100 x20: $out"
  out=$(timeout -k 5 300 "$TCPDRAIN" --to "127.0.0.1:$port" --repeat 20 --fresh --cmd "HISTORY SINCE $since" | tail -1)
  secs=$(field seconds "$out")
  put "scale_$ns" since_ms "$(awk -v s="$secs" 'BEGIN{printf "%.3f", s * 1000 / 20}')"
  put "scale_$ns" since_lines "$(field lines "$out")"
  log "scale $ns: HISTORY SINCE $since x20: $out"
  log "scale $ns: ready $SREADY_MS ms, RSS $(rss_kib "$pid") KiB"
  stop_proc "$pid"
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------
# Rows, in table order.
k() { echo "$(( $1 / 1000 ))k/s"; }
[ "$QUERIES_ONLY" = 1 ] || {
row ref udp "reference receiver (recvmmsg, 1 write, sendmmsg)" "full" ref
row dn_never udp "dailynetd --fsync never" "full" ref
row dn_never_nogso udp "dailynetd --fsync never, GSO off" "full" ref
row dn_everysec udp "dailynetd --fsync everysec" "full" ref
row dn_always udp "dailynetd --fsync always" "full" ref
row rs_default udp "rsyslog default (imudp, omfile)" "full" ref
row rs_tuned udp "rsyslog tuned (rcvbuf 64m, batch 128)" "full" ref
# The ratio column compares with the reference receiver at the same offered rate where it
# runs (full speed, 100k/s, 200k/s); the 50k/s rows have none.
for r in 50000 100000 200000; do
  base=-
  if [ "$r" != 50000 ]; then
    base="ref_$r"
    row "ref_$r" udp "reference receiver" "$(k $r)" "$base"
  fi
  row "dn_$r" udp "dailynetd --fsync everysec" "$(k $r)" "$base"
  if [ "$r" != 200000 ]; then
    row "rs_default_$r" udp "rsyslog default" "$(k $r)" "$base"
    row "rs_tuned_$r" udp "rsyslog tuned" "$(k $r)" "$base"
  fi
done
row send_never send "dailynet send, --fsync never" "full" ref
row send_always send "dailynet send, --fsync always" "full" ref
row history dl "HISTORY (N-note store)" "1 conn" sendfile
row sendfile dl "raw sendfile() of notes.log" "1 conn" sendfile
row from_ip dl "HISTORY FROM 127.0.0.1 (all notes)" "1 conn" sendfile
row from_one dl "HISTORY FROM 127.0.0.1:40001 (1 in 10)" "1 conn" sendfile
row from_one_reuse dl "same, 20 commands on one connection" "1 conn" sendfile
row mem_history mem "memory per HISTORY download" "8 conns" -
row mem_from mem "memory per HISTORY FROM download" "8 conns" -
row startup startup "start-up on the N-note store" "-" -
row t6 load "intake with 1,000 TCP conns (50 downloading)" "100k/s" -
row t5 load "intake during 8 HISTORYs back to back" "100k/s" -
row t5copy load "same, readers copying (CPU shared)" "100k/s" -
}
row q_match dl "HISTORY MATCH plumber (1 in 100), store MB/s" "1 conn" q_grep_pipe
row q_grep_pipe dl "grep -F -i plumber notes.log | cat" "-" q_grep_pipe
row q_grep_null dl "grep -F -i plumber notes.log > /dev/null" "-" q_grep_pipe
row q_last lat "HISTORY LAST 1000" "1 conn" q_last
row q_since lat "HISTORY SINCE <TIME of the last 1,000 notes>" "1 conn" q_last
row q_load load "intake during 4 HISTORY MATCH scans back to back" "100k/s" -
row q_load_history load "same, 4 plain HISTORY downloads (the bar)" "100k/s" -
row q_load_idle load "same, no download (the machine's own share)" "100k/s" -
for ns in $SCALE; do row "scale_$ns" scale "store of $ns notes" "-" -; done

# ---------------------------------------------------------------------------------------
machine_load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg)$( [ -r /proc/pressure/cpu ] && echo "; CPU pressure $(head -1 /proc/pressure/cpu | cut -d' ' -f2-4)")"; }
log "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), $(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
log "at start: $(machine_load)"
log "N=$N, $REPS repetition(s), temp dir $TMP"
REP=0; put run n "$N"   # what the losses of the --results rows are counted against
LINES="$TMP/lines.txt"
if wanted send_never send_always; then
  "$LOADGEN" --make-lines "$LINES" -n "$N" --tag send
  if probe_client; then CLIENT_OK=1; else log "client: bin/dailynet has no working 'send' yet: its rows are skipped"; fi
fi

if wanted history sendfile from_ip from_one from_one_reuse mem_history mem_from startup t6 t5 t5copy \
    q_match q_grep_pipe q_grep_null q_last q_since q_load q_load_history q_load_idle; then
  log "building the $N-note store (notes.log written directly; notes.chk rebuilt by a first start)"
  PRISTINE="$TMP/pristine"
  mkdir -p "$PRISTINE"
  "$LOADGEN" --make-store "$PRISTINE/notes.log" -n "$N" --sources 10 --tag store
  if start_proc dailynetd "$DAILYNETD" --port 0 --data "$PRISTINE" --fsync never; then
    log "first start (rebuilding notes.chk): $SREADY_MS ms: $SLINE"
    stop_proc "$SPID"
  fi
  rm -f "$PRISTINE/LOCK"
  [ -s "$PRISTINE/notes.chk" ] || { echo "bench.sh: the server did not rebuild notes.chk" >&2; exit 1; }
fi

for ((REP = 1; REP <= REPS; REP++)); do
  log "=== repetition $REP of $REPS"
  if [ "$QUERIES_ONLY" = 1 ]; then query_block; continue; fi
  udp_row ref ref 0 -
  udp_row dn_never dn 0 never
  udp_row dn_never_nogso dn-nogso 0 never
  udp_row dn_everysec dn 0 everysec
  udp_row dn_always dn 0 always
  udp_row rs_default rsyslog-default 0 -
  udp_row rs_tuned rsyslog-tuned 0 -
  for r in 50000 100000 200000; do
    [ "$r" != 50000 ] && udp_row "ref_$r" ref "$r" -
    udp_row "dn_$r" dn "$r" everysec
    if [ "$r" != 200000 ]; then
      udp_row "rs_default_$r" rsyslog-default "$r" -
      udp_row "rs_tuned_$r" rsyslog-tuned "$r" -
    fi
  done
  if [ "$CLIENT_OK" = 1 ]; then
    send_row send_never never
    send_row send_always always
  fi
  store_block
  query_block
done
REP=1
for ns in $SCALE; do scale_block "$ns"; done

# ---------------------------------------------------------------------------------------
# The table: medians over the repetitions; ratios are per repetition (row / its base row of
# the same repetition), then the median of those.
{
  echo "N=$N REPS=$REPS RSYSLOG_WHY=$RSYSLOG_WHY CLIENT_OK=$CLIENT_OK"
  cat "$ROWS" | sed 's/^/ROW\t/'
  cat "$RES" | sed 's/^/RES\t/'
} | awk -F'\t' '
function median(key,   n, i, j, t, a) {
  n = cnt[key]; if (n == 0) return "";
  for (i = 1; i <= n; i++) a[i] = val[key, i] + 0;
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t; }
  return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2;
}
function add(key, v) { cnt[key]++; val[key, cnt[key]] = v; }
function runs(key, fmt,   s, i) { s = ""; for (i = 1; i <= cnt[key]; i++) s = s (i > 1 ? "/" : "") sprintf(fmt, val[key, i]); return s; }
function thou(x,   s, r) { x = sprintf("%.0f", x); r = ""; while (length(x) > 3) { r = "," substr(x, length(x)-2) r; x = substr(x, 1, length(x)-3) } return x r; }
NR == 1 { split($0, h, " "); N = substr(h[1], 3) + 0; reps = substr(h[2], 6) + 0;
          why = $0; sub(/.*RSYSLOG_WHY=/, "", why); sub(/ CLIENT_OK=.*/, "", why);
          client = ($0 ~ /CLIENT_OK=1/); next }
$1 == "ROW" { nr++; id[nr] = $2; kind[nr] = $3; label[nr] = $4; offered[nr] = $5; base[nr] = $6; next }
$1 == "RES" { rep = $2; r = $3; m = $4; v = $5; data[rep, r, m] = v; add(r SUBSEP m, v); if (!(rep in seen)) { seen[rep] = 1 } next }
END {
  # per-repetition ratios
  for (i = 1; i <= nr; i++) for (rep in seen) {
    r = id[i]; b = base[i];
    if (kind[i] == "udp" || kind[i] == "send") {
      if ((rep, r, "rate") in data && (rep, b, "rate") in data && data[rep, b, "rate"] > 0) add(r SUBSEP "ratio", data[rep, r, "rate"] / data[rep, b, "rate"]);
      if ((rep, r, "cpu") in data && (rep, b, "cpu") in data && data[rep, b, "cpu"] > 0) add(r SUBSEP "cpuratio", data[rep, r, "cpu"] / data[rep, b, "cpu"]);
      if ((rep, r, "recv") in data) add(r SUBSEP "loss", 100 * (N - data[rep, r, "recv"]) / N);
    } else if (kind[i] == "dl") {
      if ((rep, r, "mbps") in data && (rep, b, "mbps") in data && data[rep, b, "mbps"] > 0) add(r SUBSEP "ratio", data[rep, r, "mbps"] / data[rep, b, "mbps"]);
    } else if (kind[i] == "lat") {
      if ((rep, r, "ms") in data && (rep, b, "ms") in data && data[rep, b, "ms"] > 0) add(r SUBSEP "ratio", data[rep, r, "ms"] / data[rep, b, "ms"]);
    } else if (kind[i] == "load") {
      if ((rep, r, "recv") in data && data[rep, r, "sent"] > 0) add(r SUBSEP "loss", 100 * (data[rep, r, "sent"] - data[rep, r, "recv"]) / data[rep, r, "sent"]);
    }
  }
  printf "| %-50s | %-8s | %-19s | %-8s | %-16s | %-11s | %-6s | %-6s | %s\n", "system", "offered", "received of N", "loss %", "stored/s or MB/s", "CPU µs/note", "ratio", "CPU ×", "notes (per run: a/b/c)";
  printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s\n", "----------------------------------------------------", "----------", "---------------------", "----------", "------------------", "-------------", "--------", "--------", "---";
  for (i = 1; i <= nr; i++) {
    r = id[i]; k = kind[i];
    recv = ""; loss = ""; thr = ""; cpu = ""; ratio = ""; cr = ""; note = "";
    if (k == "udp" || k == "send") {
      if (cnt[r SUBSEP "recv"] == 0) {
        if (k == "send" && !client) note = "skipped (client not built)";
        else if (r ~ /^rs_/ && why != "") note = why;
        else note = "no result (see the log)";
      } else {
        recv = thou(median(r SUBSEP "recv")) " of " thou(N);
        loss = sprintf("%.2f", median(r SUBSEP "loss"));
        thr = thou(median(r SUBSEP "rate"));
        cpu = sprintf("%.2f", median(r SUBSEP "cpu"));
        if (cnt[r SUBSEP "ratio"]) ratio = sprintf("%.2f", median(r SUBSEP "ratio"));
        if (cnt[r SUBSEP "cpuratio"]) cr = sprintf("%.2f", median(r SUBSEP "cpuratio"));
        note = "loss% " runs(r SUBSEP "loss", "%.2f") "; rate " runs(r SUBSEP "rate", "%.0f");
        if (cnt[r SUBSEP "p99"]) note = note "; ack p99 " thou(median(r SUBSEP "p99")) " µs";
        if (cnt[r SUBSEP "psi"]) note = note "; CPU pressure " runs(r SUBSEP "psi", "%.0f") "%";
        if (offered[i] != "full" && cnt[r SUBSEP "achieved"]) note = note "; sent at " thou(median(r SUBSEP "achieved")) "/s";
        if (k == "send") note = note "; exactly once & in order: " runs(r SUBSEP "exact", "%d") " (1=yes); exit " runs(r SUBSEP "rc", "%d");
      }
    } else if (k == "dl") {
      if (cnt[r SUBSEP "mbps"]) {
        thr = sprintf("%.0f MB/s", median(r SUBSEP "mbps"));
        if (cnt[r SUBSEP "ratio"]) ratio = sprintf("%.2f", median(r SUBSEP "ratio"));
        note = "MB/s " runs(r SUBSEP "mbps", "%.0f") (r == base[i] ? " (the base of this group)" : "; ratio to " (base[i] == "sendfile" ? "raw sendfile" : "grep -F -i | cat") " of the same run");
      } else note = "no result";
    } else if (k == "lat") {
      if (cnt[r SUBSEP "ms"]) {
        thr = sprintf("%.2f ms", median(r SUBSEP "ms"));
        if (cnt[r SUBSEP "ratio"]) ratio = sprintf("%.2f", median(r SUBSEP "ratio"));
        note = "ms per command " runs(r SUBSEP "ms", "%.2f") "; ratio to HISTORY LAST 1000 of the same run";
      } else note = "no result";
    } else if (k == "mem") {
      if (cnt[r SUBSEP "per_conn_kib"]) note = "VmRSS growth per connection " thou(median(r SUBSEP "per_conn_kib")) " KiB (runs " runs(r SUBSEP "per_conn_kib", "%d") "), peak VmRSS " sprintf("%.1f", median(r SUBSEP "peak_kib") / 1024) " MiB";
    } else if (k == "scale") {
      if (cnt[r SUBSEP "ready_ms"]) note = sprintf("ready after %.0f ms; VmRSS %.1f MiB; HISTORY LAST 100 %.2f ms; HISTORY SINCE (last 100 notes) %.2f ms", median(r SUBSEP "ready_ms"), median(r SUBSEP "rss_kib") / 1024, median(r SUBSEP "last100_ms"), median(r SUBSEP "since_ms"));
      else note = "no result";
    } else if (k == "startup") {
      if (cnt[r SUBSEP "ready_ms"]) {
        recv = thou(median(r SUBSEP "notes")) " notes";
        note = sprintf("ready line after %.0f ms (runs %s); VmRSS %.1f MiB", median(r SUBSEP "ready_ms"), runs(r SUBSEP "ready_ms", "%.0f"), median(r SUBSEP "rss_kib") / 1024);
      }
    } else if (k == "load") {
      if (cnt[r SUBSEP "recv"]) {
        recv = thou(median(r SUBSEP "recv")) " of " thou(median(r SUBSEP "sent"));
        loss = sprintf("%.2f", median(r SUBSEP "loss"));
        thr = thou(median(r SUBSEP "rate"));
        note = "loss% " runs(r SUBSEP "loss", "%.2f") "; ack p99 " thou(median(r SUBSEP "p99")) " µs (runs " runs(r SUBSEP "p99", "%d") ")";
        note = note "; sent at " thou(median(r SUBSEP "achieved")) "/s; downloads " runs(r SUBSEP "downloads", "%d") " at " runs(r SUBSEP "dl_mbps", "%.0f") " MB/s; TCP conns " runs(r SUBSEP "conns", "%d") "; VmRSS " sprintf("%.1f", median(r SUBSEP "rss_conns_kib") / 1024) " MiB with them open, peak " sprintf("%.1f", median(r SUBSEP "rss_kib") / 1024) " MiB; CPU pressure " runs(r SUBSEP "psi", "%.0f") "%";
      }
    }
    printf "| %-50s | %-8s | %-19s | %-8s | %-16s | %-11s | %-6s | %-6s | %s\n", label[i], offered[i], recv, loss, thr, cpu, ratio, cr, note;
  }
}'
log "at the end: $(machine_load)"
log "done"
exit 0
}
