#!/usr/bin/env bash
# durability_test.sh — durability is tested, not assumed (SPEC "UDP": with --fsync always, OK
# means the note is on stable storage). A killed process keeps the page cache, so kill -9 can
# not see a missing fdatasync; this test reads the order of system calls instead. It runs the
# real bin/dailynetd under `strace -f -y -tt` in each --fsync mode, sends plain and marked
# notes (bash /dev/udp and `dailynet send`), stops it, and checks the record up to SIGTERM:
#   always    no reply carrying OK leaves before an fdatasync that started after every write
#             to each store file (notes.log, notes.chk) has returned 0 — the fdatasyncs run on
#             the sync thread (strace -f: "<unfinished ...>" then "<... fdatasync resumed>"),
#             so a sync counts when it returns, for the writes made before it started;
#   everysec  every store write is followed by an fdatasync of that file within 2.5 s (the
#             promise is "within a second"; the margin is for a loaded machine);
#   never     no fdatasync or fsync of a store file at all.
# strace comes from `make deps`; without it (or without ptrace rights) the checks are skipped
# and say so. Env: BIN_DIR (default bin). Ends with "N passed, N failed".
source "$(dirname "$0")/preamble.sh"
[[ $BIN_DIR == /* ]] || BIN_DIR=$PWD/$BIN_DIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dailynet-durability-XXXXXX")
strace_pid=
cleanup() {
  # The server (by the PID it wrote to LOCK), then strace (by the PID we started).
  local pid
  for d in "$tmp"/*/data; do
    pid=$(cat "$d/LOCK" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null
  done
  [[ -n $strace_pid ]] && kill -KILL "$strace_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v strace >/dev/null; then
  ok "skipped: strace is not installed (make deps installs it as root)"
  finish
fi
if ! strace -f -o /dev/null true 2>/dev/null; then
  ok "skipped: strace can not trace here (no ptrace permission)"
  finish
fi

# wait_for SECONDS CMD... — a bounded poll.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.05
  done
}

# all_synced TRACE — every store file written so far has been fdatasync'ed after its write.
all_synced() {
  awk '/write[v0-9]*\(/ && /notes\.(log|chk)>/ { d[/notes\.log>/ ? "log" : "chk"] = 1 }
       /(fdatasync|fsync)\(/ && /notes\.(log|chk)>/ && / = 0$/ { delete d[/notes\.log>/ ? "log" : "chk"] }
       END { for (k in d) exit 1; exit 0 }' "$1"
}

# run_mode MODE — starts the traced server, sends notes, stops it; leaves $tmp/MODE/trace.
run_mode() {
  local mode=$1 dir=$tmp/$1 port pid r
  mkdir -p "$dir"
  strace -f -y -tt -s 64 -e trace=pwrite64,pwritev,write,writev,fdatasync,fsync,sendto,sendmsg,sendmmsg \
    -o "$dir/trace" "$BIN_DIR/dailynetd" --port 0 --data "$dir/data" --fsync "$mode" \
    >"$dir/out" 2>"$dir/err" &
  strace_pid=$!
  if ! wait_for 20 grep -qs ' udp=' "$dir/out"; then
    bad "$mode: the traced server did not start: $(head -c 300 "$dir/err")"
    return 1
  fi
  port=$(grep -o 'udp=127.0.0.1:[0-9]*' "$dir/out" | cut -d: -f2)
  # Plain datagrams, one at a time, each answered.
  exec {udp}<>"/dev/udp/127.0.0.1/$port"
  for i in 1 2 3 4 5; do
    printf 'plain note %d' "$i" >&"$udp"
    r=$(timeout 5 dd bs=64 count=1 status=none <&"$udp")  # one datagram, whole
    [[ $r == OK* ]] || bad "$mode: plain note $i answered '$r'"
  done
  exec {udp}<&-
  # Marked datagrams, several in flight.
  seq 1 200 | sed 's/^/marked note /' |
    timeout 30 "$BIN_DIR/dailynet" send --port "$port" >/dev/null 2>"$dir/send.err" ||
    bad "$mode: dailynet send failed: $(head -c 200 "$dir/send.err")"
  if [[ $mode == everysec ]]; then
    # Let the once-a-second sync happen while running (bounded), not only at the stop.
    wait_for 10 all_synced "$dir/trace" || true
  fi
  pid=$(cat "$dir/data/LOCK")
  kill -TERM "$pid"
  wait "$strace_pid"
  strace_pid=
  return 0
}

# check MODE — reads the trace up to SIGTERM; prints nothing when the order holds. Lines
# start with the thread id (strace -f), then the time. Per file: gen counts its writes,
# clean the writes covered by a returned fdatasync, at[g] when write g happened.
check() {
  awk -v mode="$1" '
    function file_of(line) {
      if (line ~ /notes\.log>/) return "notes.log"
      if (line ~ /notes\.chk>/) return "notes.chk"
      return ""
    }
    function stamp(line,   f, t) {
      split(line, f, " ")
      split(f[2], t, ":")
      return t[1] * 3600 + t[2] * 60 + t[3]
    }
    function synced(f, g, line) {
      if (mode == "everysec" && gen[f] > clean[f] && g > clean[f] && stamp(line) - at[f, clean[f] + 1] > 2.5) {
        printf "%s written at %.3f, synced %.3f s later\n", f, at[f, clean[f] + 1], stamp(line) - at[f, clean[f] + 1]
        bad++
      }
      if (g > clean[f]) clean[f] = g
    }
    /--- SIGTERM/ { exit }
    /<\.\.\. (fdatasync|fsync) resumed>/ {
      if ($1 in pending) {
        split(pending[$1], p, SUBSEP)
        if ($0 ~ / = 0$/) synced(p[1], p[2], $0)
        delete pending[$1]
      }
      next
    }
    /(pwrite64|pwritev|write|writev)\(/ && file_of($0) != "" && !/\(.*\) = -1/ {
      f = file_of($0)
      gen[f]++
      at[f, gen[f]] = stamp($0)
      writes++
      next
    }
    /(fdatasync|fsync)\(/ && file_of($0) != "" {
      f = file_of($0)
      syncs++
      if (mode == "never") { print "fdatasync under --fsync never: " $0; bad++ }
      if ($0 ~ /<unfinished \.\.\.>/) pending[$1] = f SUBSEP gen[f]
      else if ($0 ~ / = 0$/) synced(f, gen[f], $0)
      next
    }
    # A send shows its data on the line that has it: the call, or its "resumed" line when
    # strace cut it (a thread ran meanwhile).
    /(sendto|sendmsg|sendmmsg)(\(| resumed>)/ && /"OK / {
      oks++
      if (mode == "always")
        for (f in gen)
          if (gen[f] > clean[f]) { print "OK sent before an fdatasync of " f " returned: " $0; bad++ }
    }
    END {
      if (mode == "everysec")
        for (f in gen)
          if (gen[f] > clean[f]) { print f " written and not synced before the stop"; bad++ }
      printf "writes=%d syncs=%d oks=%d\n", writes, syncs, oks > "/dev/stderr"
      exit bad > 0
    }' "$tmp/$1/trace"
}

for mode in always everysec never; do
  run_mode "$mode" || continue
  counts=$(check "$mode" 2>&1 >/dev/null | tail -n 1)
  if problems=$(check "$mode" 2>/dev/null); then
    case $mode in
      always) ok "always: no OK left before an fdatasync of every store file written ($counts)" ;;
      everysec) ok "everysec: every store write was synced within 2.5 s ($counts)" ;;
      never) ok "never: no fdatasync of a store file ($counts)" ;;
    esac
  else
    bad "$mode: $(head -n 3 <<<"$problems")"
  fi
  [[ $counts == *" oks=0" ]] && bad "$mode: no OK reply found in the trace (did strace see the replies?)"
done
finish
