#!/usr/bin/env bash
# hostile.sh — issue 6's measurements under hostile load: (a) server CPU during an EMFILE
# storm, (b) UDP acknowledgement latency while slowloris connections and stalled readers hold
# on. Prints PASS/FAIL lines, one table of figures, and "N passed, N failed". See --help.
set -u
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<'EOF'
usage: scripts/hostile.sh [options]

Measures two hostile-load figures of dailynetd on 127.0.0.1, each against its own server on
a free port with a temporary store, and prints one table:

 (a) EMFILE storm: a server started with `ulimit -n NOFILE` gets STORM connection attempts
     (scripts/bench/connstorm, every connection kept open, paced at STORM_RATE/s, then all
     held for HOLD more seconds). Its CPU (utime+stime from /proc/PID/stat) over the storm
     and over the hold, as % of one core: PASS if each is under CPU_MAX (a server that spins
     on a listener it cannot accept from burns a whole core in the hold). Also checked: the server lives, the excess got
     "ERR server busy", the out-of-descriptors log line came at most once a second, UDP
     notes sent during the storm were all acknowledged, and a new connection works after.
 (b) Slowloris: a server on a STORE_NOTES-note store; UDP acknowledgement latency p50/p99
     (scripts/bench/loadgen --ack, NOTES notes at RATE/s) first with nothing else going on
     (reference), then while SLOWLORIS connections hold a half-sent command line and STALLED
     readers sit on a HISTORY they never read (connstorm --slowloris); REPS runs of each, the
     median reported (and the worst). PASS if the median p99 under attack is under P99_MAX ms
     and every note of every run was acknowledged.

  --nofile N          (a) the server's descriptor limit (default 256)
  --storm N           (a) connection attempts (default 2000)
  --storm-rate R      (a) attempts per second, 0 = all at once (default 1000)
  --hold SEC          (a) seconds the connections are held after the storm (default 2)
  --cpu-max PCT       (a) pass limit, % of one core (default 50)
  --rate R            (b) notes per second (default 10000)
  -n, --notes N       (b) notes per latency run (default 20000)
  --reps R            (b) latency runs of each kind (default 3)
  --slowloris S       (b) half-open connections (default 200)
  --stalled T         (b) stalled HISTORY readers (default 5)
  --store-notes N     (b) notes in the store the readers stall on (default 200000)
  --fsync MODE        --fsync of the servers (default everysec; `always` adds the disk's
                      fdatasync latency to every acknowledgement)
  --p99-max MS        (b) pass limit (default 10)
  --keep              keep the temporary directory (server logs, tool output)
  -h, --help          this text

Builds its tools with `make bench-tools`; needs bin/dailynetd (run `make`). Everything it
starts is ended by PID on exit.
EOF
}

NOFILE=256
STORM=2000
STORM_RATE=1000
HOLD=2
CPU_MAX=50
RATE=10000
NOTES=20000
REPS=3
SLOWLORIS=200
STALLED=5
STORE_NOTES=200000
FSYNC=everysec
P99_MAX=10
num() { [[ ${2-} =~ ^[0-9]+$ ]] || dn_die "$1 wants a number, not '${2-}'"; }
while (($#)); do
  case $1 in
    --nofile) num "$1" "${2-}"; NOFILE=$2; shift ;;
    --storm) num "$1" "${2-}"; STORM=$2; shift ;;
    --storm-rate) num "$1" "${2-}"; STORM_RATE=$2; shift ;;
    --hold) num "$1" "${2-}"; HOLD=$2; shift ;;
    --cpu-max) num "$1" "${2-}"; CPU_MAX=$2; shift ;;
    --rate) num "$1" "${2-}"; RATE=$2; shift ;;
    -n | --notes) num "$1" "${2-}"; NOTES=$2; shift ;;
    --reps) num "$1" "${2-}"; REPS=$2; shift ;;
    --slowloris) num "$1" "${2-}"; SLOWLORIS=$2; shift ;;
    --stalled) num "$1" "${2-}"; STALLED=$2; shift ;;
    --store-notes) num "$1" "${2-}"; STORE_NOTES=$2; shift ;;
    --fsync) [[ ${2-} =~ ^(always|everysec|never)$ ]] || dn_die "--fsync wants always, everysec or never"; FSYNC=$2; shift ;;
    --p99-max) num "$1" "${2-}"; P99_MAX=$2; shift ;;
    --keep) DN_KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) dn_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
((NOFILE >= 32 && NOFILE <= 1024)) || dn_die "--nofile wants 32..1024"
((STORM >= 1 && STORM <= 15000)) || dn_die "--storm wants 1..15000"
((RATE >= 1 && NOTES >= 100)) || dn_die "--rate wants >= 1 and --notes >= 100"
((REPS >= 1 && REPS <= 9)) || dn_die "--reps wants 1..9"
((SLOWLORIS + STALLED >= 1 && SLOWLORIS + STALLED < 1000)) ||
  dn_die "--slowloris + --stalled wants 1..999 (under --max-clients)"
dn_need_binaries "$DN_SERVER"

dn_log "building the tools (make bench-tools)"
make -C "$DN_ROOT" --no-print-directory bench-tools >/dev/null || dn_die "make bench-tools failed"
dn_init
for t in connstorm loadgen; do
  [[ -x $DN_ROOT/build/rel/bench/$t ]] || dn_die "build/rel/bench/$t is missing"
  cp "$DN_ROOT/build/rel/bench/$t" "$DN_TMP/bin/$t"
done
CONNSTORM=$DN_TMP/bin/connstorm
LOADGEN=$DN_TMP/bin/loadgen
CLK_TCK=$(getconf CLK_TCK)

# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() {
  local st rest
  read -r st <"/proc/$1/stat" || { echo 0; return; }
  rest=${st##*) }
  # after "(comm) ": state(3) ppid(4) ... utime is the 12th word, stime the 13th
  awk '{ print $12 + $13 }' <<<"$rest"
}
# The value of one STATS counter of the running server (empty when unreachable).
stat_of() { dn_tcp 5 STATS | awk -v k="$1" '$1 == k { print $2 }'; }
# A key=value field of a one-line summary.
field() { sed -nE "s/.*[ ^]$1=([^ ]+).*/\1/p" <<<" $2" | head -n 1; }
us_to_ms() { awk -v u="$1" 'BEGIN { if (u == "") print "-"; else printf "%.2f", u / 1000 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# Median and maximum of numbers given as arguments: "MEDIAN MAX" ("-" when none).
med_max() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) { print "- -"; exit } print v[int((NR + 1) / 2)], v[NR] }'; }

dn_log "machine: $(nproc) CPUs, load average $(loadavg) at start"
ROWS=()

# ---- (a) EMFILE storm ---------------------------------------------------------------------

dn_log "(a) EMFILE storm: server with ulimit -n $NOFILE, $STORM connection attempts at ${STORM_RATE}/s"
OLD_NOFILE=$(ulimit -Sn)
ulimit -Sn "$NOFILE" || dn_die "cannot set ulimit -n $NOFILE"
DN_SERVER_ERR_FILE=$DN_TMP/storm-server.err
dn_server_start "$DN_TMP/storm-data" --port 0 --fsync "$FSYNC"
start_rc=$?
ulimit -Sn "$OLD_NOFILE"
if ((start_rc != 0)); then
  dn_fail "(a) server with ulimit -n $NOFILE did not start (status $start_rc)"
else
  SPID=$DN_SERVER_PID
  limit=$(awk '/^Max open files/ { print $4 }' "/proc/$SPID/limits")
  dn_check "(a) server runs with a descriptor limit of $NOFILE (has $limit)" test "$limit" = "$NOFILE"
  # UDP notes during the storm, at a gentle pace, all to be acknowledged.
  udp_n=$(awk -v s="$STORM" -v r="$STORM_RATE" -v h="$HOLD" 'BEGIN { t = (r > 0 ? s / r : 1) + h; printf "%d", t * 500 }')
  timeout -k 2 120 "$LOADGEN" --to "127.0.0.1:$DN_UDP_PORT" -n "$udp_n" --rate 500 --ack \
    --timeout 60 --tag storm >"$DN_TMP/storm-loadgen.out" 2>&1 &
  LG=$!
  dn_track "$LG" loadgen group
  ticks0=$(cpu_ticks "$SPID")
  t0=$(dn_now)
  timeout -k 2 120 "$CONNSTORM" --to "127.0.0.1:$DN_TCP_PORT" --storm "$STORM" \
    --rate "$STORM_RATE" --hold "$HOLD" --timeout 90 >"$DN_TMP/connstorm.out" 2>&1 &
  CS=$!
  dn_track "$CS" connstorm group
  # The storm, then the hold: every connection kept open, the excess still pending in the
  # listen backlog (a server that cannot take them and does not spin is idle now).
  sent_line() { grep -q '^connstorm sent' "$DN_TMP/connstorm.out"; }
  dn_poll 100 sent_line
  ticks_mid=$(cpu_ticks "$SPID")
  t_mid=$(dn_now)
  dn_wait_exit "$CS" 100 >/dev/null
  t1=$(dn_now)
  ticks1=$(cpu_ticks "$SPID")
  storm_out=$(tail -n 1 "$DN_TMP/connstorm.out")
  dn_wait_exit "$LG" 90 >/dev/null
  lg_out=$(tail -n 1 "$DN_TMP/storm-loadgen.out")
  storm_s=$(dn_elapsed "$t0" "$t_mid")
  hold_s=$(dn_elapsed "$t_mid" "$t1")
  pct() { awk -v t="$1" -v hz="$CLK_TCK" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? 100 * t / hz / s : 0) }'; }
  cpu_pct=$(pct $((ticks_mid - ticks0)) "$storm_s")
  hold_pct=$(pct $((ticks1 - ticks_mid)) "$hold_s")
  dn_log "connstorm: $storm_out"
  dn_log "server CPU: storm $((ticks_mid - ticks0)) ticks in $storm_s s = $cpu_pct %; hold $((ticks1 - ticks_mid)) ticks in $hold_s s = $hold_pct %"
  busy=$(field busy "$storm_out")
  kept=$(field kept "$storm_out")
  attempts=$(field attempts "$storm_out")
  dn_check "(a) connstorm made all $STORM attempts" test "${attempts:-0}" = "$STORM"
  dn_check "(a) server still running after the storm" dn_alive "$SPID"
  dn_check "(a) connections beyond the descriptor limit got ERR server busy (busy=${busy:-?})" \
    test "${busy:-0}" -gt 0
  dn_check "(a) the server kept fewer connections than its limit (kept=${kept:-?})" \
    test "${kept:-999999}" -lt "$NOFILE"
  emfile_lines=$(grep -c 'out of file descriptors' "$DN_SERVER_ERR")
  all_s=$(dn_elapsed "$t0" "$t1")
  max_lines=$(awk -v s="$all_s" 'BEGIN { printf "%d", s + 2 }')
  dn_check "(a) out-of-descriptors log line at most once a second ($emfile_lines in $all_s s)" \
    test "$emfile_lines" -ge 1 -a "$emfile_lines" -le "$max_lines"
  dn_check "(a) server CPU during the storm under $CPU_MAX% of one core ($cpu_pct %)" \
    awk -v c="$cpu_pct" -v m="$CPU_MAX" 'BEGIN { exit !(c < m) }'
  dn_check "(a) server CPU while the connections are held under $CPU_MAX% of one core ($hold_pct %)" \
    awk -v c="$hold_pct" -v m="$CPU_MAX" 'BEGIN { exit !(c < m) }'
  lg_ok=$(field ok "$lg_out")
  dn_check "(a) UDP notes during the storm all acknowledged (${lg_ok:-0} of $udp_n)" \
    test "${lg_ok:-0}" = "$udp_n"
  pong() { [[ $(dn_tcp 3 PING) == PONG ]]; }
  dn_check "(a) after the storm a new TCP connection is served" dn_poll 5 pong
  ROWS+=("(a) server CPU, EMFILE storm|$cpu_pct % of one core|< $CPU_MAX %|ulimit -n $NOFILE, $STORM attempts at ${STORM_RATE}/s over $storm_s s (and 500 UDP notes/s): kept ${kept:-?}, busy ${busy:-?}; $emfile_lines log lines")
  ROWS+=("(a) server CPU, held afterwards|$hold_pct % of one core|< $CPU_MAX %|all $STORM connections kept open for $hold_s s more")
  dn_check "(a) server stops cleanly (SIGTERM, exit 0)" dn_server_stop
fi

# ---- (b) UDP ack latency under slowloris ----------------------------------------------------

dn_log "(b) store of $STORE_NOTES notes; UDP at ${RATE}/s, $NOTES notes per run, --fsync $FSYNC"
mkdir -p "$DN_TMP/slow-data"
"$LOADGEN" --make-store "$DN_TMP/slow-data/notes.log" -n "$STORE_NOTES" --size 100 >/dev/null ||
  dn_die "loadgen --make-store failed"
store_bytes=$(stat -c %s "$DN_TMP/slow-data/notes.log")
DN_SERVER_ERR_FILE=$DN_TMP/slow-server.err
if ! dn_server_start "$DN_TMP/slow-data" --port 0 --fsync "$FSYNC"; then
  dn_fail "(b) server did not start (status $DN_SERVER_RC)"
else
  SPID=$DN_SERVER_PID
  run_s=$(awk -v n="$NOTES" -v r="$RATE" 'BEGIN { printf "%d", n / r + 30 }')
  latency_run() {   # TAG -> one loadgen summary line
    timeout -k 2 $((run_s + 10)) "$LOADGEN" --to "127.0.0.1:$DN_UDP_PORT" -n "$NOTES" \
      --rate "$RATE" --ack --timeout "$run_s" --tag "$1" 2>&1 | tail -n 1
  }
  # REPS runs -> arrays of p50 / p99 / max (ms); every note of every run must be acknowledged.
  declare -a P50 P99 MAX
  runs() {   # KIND
    local i out ok
    P50=() P99=() MAX=()
    for ((i = 1; i <= REPS; i++)); do
      out=$(latency_run "$1$i")
      dn_log "$1 run $i: $out"
      ok=$(field ok "$out")
      dn_check "(b) $1 run $i: every note acknowledged (${ok:-0} of $NOTES)" test "${ok:-0}" = "$NOTES"
      P50+=("$(us_to_ms "$(field p50_us "$out")")")
      P99+=("$(us_to_ms "$(field p99_us "$out")")")
      MAX+=("$(us_to_ms "$(field max_us "$out")")")
    done
  }
  runs reference
  read -r b50 _ <<<"$(med_max "${P50[@]}")"
  read -r b99 b99w <<<"$(med_max "${P99[@]}")"
  read -r _ bmax <<<"$(med_max "${MAX[@]}")"

  timeout -k 2 $((REPS * run_s + 60)) "$CONNSTORM" --to "127.0.0.1:$DN_TCP_PORT" \
    --slowloris "$SLOWLORIS" --stalled "$STALLED" --duration $((REPS * run_s + 40)) \
    >"$DN_TMP/slowloris.out" 2>&1 &
  CS=$!
  dn_track "$CS" connstorm group
  holding() { grep -q '^connstorm holding' "$DN_TMP/slowloris.out"; }
  dn_check "(b) $SLOWLORIS slowloris connections and $STALLED stalled readers are up" dn_poll 20 holding
  want_open=$((SLOWLORIS + STALLED + 1))
  all_open() { local n; n=$(stat_of tcp_connections_open); [[ -n $n && $n -ge $want_open ]]; }
  dn_check "(b) the server holds them all (tcp_connections_open >= $want_open)" dn_poll 10 all_open
  ticks0=$(cpu_ticks "$SPID")
  t0=$(dn_now)
  runs attack
  t1=$(dn_now)
  ticks1=$(cpu_ticks "$SPID")
  read -r a50 _ <<<"$(med_max "${P50[@]}")"
  read -r a99 a99w <<<"$(med_max "${P99[@]}")"
  read -r _ amax <<<"$(med_max "${MAX[@]}")"
  sent_after=$(stat_of tcp_history_bytes_sent)
  open_after=$(stat_of tcp_connections_open)
  a_cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v s="$(dn_elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", 100 * t / hz / s }')
  dn_stop "$CS" TERM
  dn_log "$(grep '^connstorm done' "$DN_TMP/slowloris.out")"
  dn_check "(b) the attackers were still connected after the runs (tcp_connections_open $open_after)" \
    test "${open_after:-0}" -ge "$want_open"
  dn_check "(b) the readers really stalled (HISTORY bytes sent: $sent_after, under $STALLED x $store_bytes)" \
    test "${sent_after:-0}" -gt 0 -a "${sent_after:-0}" -lt $((STALLED * store_bytes))
  dn_check "(b) UDP ack p99 under slowloris below $P99_MAX ms (median of $REPS: $a99 ms, worst $a99w ms)" \
    awk -v p="$a99" -v m="$P99_MAX" 'BEGIN { exit !(p != "-" && p < m) }'
  ROWS+=("(b) UDP ack p50 / p99, reference|$b50 / $b99 ms|-|$REPS x $NOTES notes at ${RATE}/s, nothing else; worst p99 $b99w ms, max $bmax ms")
  ROWS+=("(b) UDP ack p50 / p99, under attack|$a50 / $a99 ms|p99 < $P99_MAX ms|$REPS x $NOTES notes at ${RATE}/s; $SLOWLORIS slowloris + $STALLED stalled HISTORY readers ($STORE_NOTES-note store); worst p99 $a99w ms, max $amax ms; server CPU $a_cpu %")
  dn_check "(b) server stops cleanly (SIGTERM, exit 0)" dn_server_stop
fi

dn_log "load average $(loadavg) at the end"
echo
printf '%-38s  %-22s  %-13s  %s\n' "measurement" "value" "pass if" "conditions"
printf '%-38s  %-22s  %-13s  %s\n' "-----------" "-----" "-------" "----------"
for r in "${ROWS[@]}"; do
  IFS='|' read -r a b c d <<<"$r"
  printf '%-38s  %-22s  %-13s  %s\n' "$a" "$b" "$c" "$d"
done
echo "(loopback, $(nproc) CPUs, load average $(loadavg); --fsync $FSYNC; $(uname -r))"
echo
dn_finish
