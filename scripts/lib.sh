# lib.sh — shared helpers for scripts/*.sh (sourced, not run).
#
#   binaries      DN_SERVER, DN_CLIENT ($BIN_DIR, default <repo>/bin)
#   temp files    DN_TMP: one directory, removed at exit (DN_KEEP=1 keeps it)
#   processes     dn_track PID NAME / dn_untrack PID; every tracked PID is ended at exit,
#                 on Ctrl-C, on SIGTERM and on failure: SIGTERM, a bounded wait, then SIGKILL.
#                 Nothing is ever killed by name.
#   server        dn_server_start DATA [ARGS...] / dn_server_stop / dn_server_kill9
#   waits         dn_wait_exit PID SECONDS, dn_poll SECONDS CMD...: bounded polls, no fixed sleeps
#   bookkeeping   dn_pass / dn_fail / dn_check, dn_finish prints "N passed, N failed" last
#                 and exits 0 only when nothing failed.
#
# Conventions: background clients run under `timeout` (so that even an orphan ends), started
# with `dn_client_bg ... &`; the tracked PID is the `timeout` process: SIGTERM to it is passed
# on to the client. The server is started directly, so that its PID is the server's own
# (crash_soak.sh kill -9s it). The scripts run copies of the binaries (see dn_init).

DN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DN_BIN=${BIN_DIR:-bin}
[[ $DN_BIN == /* ]] || DN_BIN=$DN_ROOT/$DN_BIN
DN_SERVER=$DN_BIN/dailynetd
DN_CLIENT=$DN_BIN/dailynet
DN_NAME=$(basename "$0")
DN_PASSED=0
DN_FAILED=0
DN_TMP=
DN_FINISHED=0
declare -A DN_PIDS=()    # PID -> name, everything this script started and has not reaped

dn_log() { printf '%s: %s\n' "$DN_NAME" "$*" >&2; }
dn_die() { dn_log "$*"; exit 2; }   # usage errors and missing prerequisites (before any check)

# Seconds since the epoch with microseconds, from bash itself (no fork).
dn_now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
# Elapsed seconds between two dn_now values, 3 decimals.
dn_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---- bookkeeping -----------------------------------------------------------------------------

dn_pass() { DN_PASSED=$((DN_PASSED + 1)); printf 'PASS  %s\n' "$*"; }
dn_fail() { DN_FAILED=$((DN_FAILED + 1)); printf 'FAIL  %s\n' "$*"; }
dn_skip() { printf 'SKIP  %s\n' "$*"; }
# dn_check DESCRIPTION CMD... — one pass/fail line from a command's status.
dn_check() {
  local desc=$1
  shift
  if "$@"; then dn_pass "$desc"; else dn_fail "$desc"; fi
}
# Ends the script: cleans up (quietly), then prints the summary as the very last line.
dn_finish() {
  DN_FINISHED=1
  dn_cleanup
  printf '%d passed, %d failed\n' "$DN_PASSED" "$DN_FAILED"
  trap - EXIT
  if ((DN_FAILED == 0 && DN_PASSED > 0)); then exit 0; fi
  exit 1
}

# ---- processes ---------------------------------------------------------------------------------

declare -A DN_GROUPS=()  # tracked PIDs that lead their own process group (`timeout` wrappers)
# dn_track PID [NAME [group]] — "group": PID leads its own process group (`timeout` does),
# and the cleanup signals that group too, so a client outlives no killed wrapper.
dn_track() {
  DN_PIDS[$1]=${2:-process}
  [[ ${3-} == group ]] && DN_GROUPS[$1]=1
  return 0
}
dn_untrack() { unset "DN_PIDS[$1]" "DN_GROUPS[$1]"; }
# SIGKILL to a tracked PID, and to its process group if it leads one: right away, while the
# group ID cannot have been reused (it stays reserved while any member lives).
dn_kill9() {
  kill -s KILL "$1"
  [[ -n ${DN_GROUPS[$1]-} ]] && kill -s KILL -- "-$1"
  return 0
}
dn_alive() { kill -0 "$1" 2>/dev/null; }

# dn_wait_exit PID SECONDS — waits (polling) up to SECONDS for PID to end and reaps it.
# Returns its exit status, or 255 (still running) on timeout. PID must be our child.
dn_wait_exit() {
  local pid=$1 limit=$2 i n rc
  n=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 50 }')
  for ((i = 0; i <= n; i++)); do
    if ! dn_alive "$pid"; then
      wait "$pid" 2>/dev/null
      rc=$?
      dn_untrack "$pid"
      return "$rc"
    fi
    ((i < n)) && sleep 0.02
  done
  return 255
}

# dn_stop PID [SIGNAL] — signal (default TERM), wait up to 5 s, then SIGKILL; always reaps.
dn_stop() { _dn_stop "$@" 2>/dev/null; }   # (no job notices on stderr)
_dn_stop() {
  local pid=$1 sig=${2:-TERM} rc
  dn_alive "$pid" || { wait "$pid" 2>/dev/null; rc=$?; dn_untrack "$pid"; return "$rc"; }
  kill -s "$sig" "$pid" 2>/dev/null
  dn_wait_exit "$pid" 5
  rc=$?
  if ((rc == 255)); then
    dn_kill9 "$pid"
    dn_wait_exit "$pid" 5
    rc=$?
  fi
  return "$rc"
}

# dn_our_processes — PIDs of every process below this script (children, grandchildren, ...)
# and of the members of the process groups of the tracked `timeout` wrappers (a client whose
# wrapper died is re-parented, but stays in that group). Read from /proc by parent PID and
# group ID; names play no part.
dn_our_processes() {
  local f st pid rest changed
  local -A par=() grp=() mine=()
  for f in /proc/[0-9]*/stat; do
    { read -r st <"$f"; } 2>/dev/null || continue
    pid=${f#/proc/}
    pid=${pid%/stat}
    rest=${st##*) }           # after "(comm) ": state ppid pgrp ...
    read -r _ par[$pid] grp[$pid] _ <<<"$rest"
  done
  mine[$$]=1
  changed=1
  while ((changed)); do
    changed=0
    for pid in "${!par[@]}"; do
      [[ -n ${mine[$pid]-} ]] && continue
      if [[ -n ${mine[${par[$pid]}]-} || -n ${DN_GROUPS[${grp[$pid]}]-} ]]; then
        mine[$pid]=1
        changed=1
      fi
    done
  done
  unset "mine[$$]" "mine[$BASHPID]"
  ((${#mine[@]})) && printf '%s\n' "${!mine[@]}"
  return 0
}

# Ends every tracked process: TERM to all (and to the groups of tracked `timeout` wrappers),
# one shared bounded wait, KILL to what is left; then the same for any other process below
# this script (e.g. one started just as a signal came, before it was tracked).
dn_stop_all() { _dn_stop_all 2>/dev/null; }
_dn_stop_all() {
  local pid i left others
  for pid in "${!DN_PIDS[@]}"; do
    kill -s TERM "$pid"
    [[ -n ${DN_GROUPS[$pid]-} ]] && kill -s TERM -- "-$pid"
  done
  for ((i = 0; i < 250 && ${#DN_PIDS[@]}; i++)); do
    left=0
    for pid in "${!DN_PIDS[@]}"; do
      if dn_alive "$pid"; then left=1; else wait "$pid"; dn_untrack "$pid"; fi
    done
    ((left)) || break
    sleep 0.02
  done
  for pid in "${!DN_PIDS[@]}"; do
    dn_kill9 "$pid"
    wait "$pid"
    dn_untrack "$pid"
  done
  for i in 1 2; do
    others=$(dn_our_processes)
    [[ -n $others ]] || break
    for pid in $others; do kill -s TERM "$pid"; done
    sleep 0.2
    for pid in $others; do
      dn_alive "$pid" && kill -s KILL "$pid"
    done
  done
  wait
  return 0
}

dn_cleanup() {
  dn_stop_all
  if [[ -n $DN_TMP && -d $DN_TMP ]]; then
    if [[ ${DN_KEEP:-0} == 1 ]]; then
      dn_log "kept temporary files in $DN_TMP"
    else
      rm -rf -- "$DN_TMP"
    fi
  fi
  DN_TMP=
}

dn_on_exit() {
  local rc=$?
  ((DN_FINISHED)) && return
  # An unexpected exit (an error, set -u, a bug): still clean up and end with the summary.
  DN_FINISHED=1
  dn_cleanup
  if ((rc != 0 && rc != 2)); then
    DN_FAILED=$((DN_FAILED + 1))
    printf 'FAIL  %s stopped early (status %d)\n' "$DN_NAME" "$rc"
  fi
  if ((rc != 2)); then printf '%d passed, %d failed\n' "$DN_PASSED" "$DN_FAILED"; fi
  exit $((rc == 0 ? 1 : rc))
}

dn_on_signal() {
  trap '' INT TERM
  printf 'FAIL  interrupted by SIG%s\n' "$1"
  DN_FAILED=$((DN_FAILED + 1))
  dn_finish
}

# dn_init — temp dir and traps; call once, after option parsing.
dn_init() {
  trap dn_on_exit EXIT
  trap 'dn_on_signal INT' INT
  trap 'dn_on_signal TERM' TERM
  trap 'dn_on_signal HUP' HUP
  DN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dailynet-${DN_NAME%.sh}.XXXXXX") || dn_die "cannot create a temp dir"
  # Run copies of the binaries: a `make` during a long run must not swap them underneath.
  mkdir -p "$DN_TMP/bin"
  if [[ -x $DN_SERVER ]] && cp "$DN_SERVER" "$DN_TMP/bin/dailynetd"; then DN_SERVER=$DN_TMP/bin/dailynetd; fi
  if [[ -x $DN_CLIENT ]] && cp "$DN_CLIENT" "$DN_TMP/bin/dailynet"; then DN_CLIENT=$DN_TMP/bin/dailynet; fi
}

dn_need_binaries() {
  local b
  for b in "$@"; do
    [[ -x $b ]] || dn_die "$b is missing: run 'make' first"
  done
}

# dn_poll SECONDS CMD... — runs CMD every 20 ms until it succeeds (0) or SECONDS pass (1).
dn_poll() {
  local limit=$1 i n
  shift
  n=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 50 }')
  for ((i = 0; i <= n; i++)); do
    "$@" && return 0
    ((i < n)) && sleep 0.02
  done
  return 1
}

# Lines in a file (0 when missing).
dn_lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }

# ---- the server ----------------------------------------------------------------------------------

DN_SERVER_PID=
DN_HOST=
DN_PORT=
DN_UDP_PORT=
DN_TCP_PORT=
DN_SERVER_NOTES=
DN_SERVER_OUT=
DN_SERVER_ERR=
DN_SERVER_RC=

# dn_server_start DATA [ARGS...] — starts dailynetd --data DATA ARGS (add --port), waits at
# most 10 s for its start line and sets DN_SERVER_PID, DN_HOST, DN_UDP_PORT, DN_TCP_PORT,
# DN_PORT (= the TCP port), DN_SERVER_NOTES. Its stdout/stderr go to DN_SERVER_OUT/_ERR
# (stderr is appended to, so one file holds every start on the same store).
# Returns 0 when ready; otherwise the server's exit status (DN_SERVER_RC), 255 on timeout.
dn_server_start() {
  local data=$1 line udp tcp i
  shift
  DN_SERVER_OUT=${DN_SERVER_OUT_FILE:-$DN_TMP/server.out}
  DN_SERVER_ERR=${DN_SERVER_ERR_FILE:-$DN_TMP/server.err}
  : >"$DN_SERVER_OUT"
  "$DN_SERVER" --data "$data" "$@" >"$DN_SERVER_OUT" 2>>"$DN_SERVER_ERR" </dev/null &
  DN_SERVER_PID=$!
  dn_track "$DN_SERVER_PID" dailynetd
  DN_SERVER_RC=
  for ((i = 0; i < 500; i++)); do
    line=$(grep -m1 '^dailynetd ready ' "$DN_SERVER_OUT" 2>/dev/null)
    [[ -n $line ]] && break
    if ! dn_alive "$DN_SERVER_PID"; then
      wait "$DN_SERVER_PID" 2>/dev/null
      DN_SERVER_RC=$?
      dn_untrack "$DN_SERVER_PID"
      DN_SERVER_PID=
      return "$DN_SERVER_RC"
    fi
    sleep 0.02
  done
  if [[ -z $line ]]; then
    dn_stop "$DN_SERVER_PID" KILL
    DN_SERVER_PID=
    DN_SERVER_RC=255
    return 255
  fi
  udp=$(sed -E 's/.* udp=([^ ]+).*/\1/' <<<"$line")
  tcp=$(sed -E 's/.* tcp=([^ ]+).*/\1/' <<<"$line")
  DN_SERVER_NOTES=$(sed -E 's/.* notes=([0-9]+).*/\1/' <<<"$line")
  DN_UDP_PORT=${udp##*:}
  DN_TCP_PORT=${tcp##*:}
  DN_PORT=$DN_TCP_PORT
  DN_HOST=${tcp%:*}
  DN_HOST=${DN_HOST#[}
  DN_HOST=${DN_HOST%]}
  return 0
}

# dn_server_stop — SIGTERM, bounded wait; returns its exit status (0 expected).
dn_server_stop() {
  [[ -n $DN_SERVER_PID ]] || return 0
  dn_stop "$DN_SERVER_PID" TERM
  DN_SERVER_RC=$?
  DN_SERVER_PID=
  return "$DN_SERVER_RC"
}

# dn_server_kill9 — the crash: SIGKILL by PID, reaped.
# (bash's "Killed" job notice is kept off stderr)
dn_server_kill9() {
  [[ -n $DN_SERVER_PID ]] || return 0
  {
    kill -s KILL "$DN_SERVER_PID"
    dn_wait_exit "$DN_SERVER_PID" 5
  } 2>/dev/null
  DN_SERVER_PID=
}

# ---- the client ----------------------------------------------------------------------------------

# dn_client SECONDS ARGS... — the client against DN_HOST:DN_PORT, bounded by `timeout`.
dn_client() {
  local limit=$1
  shift
  timeout -k 2 "$limit" "$DN_CLIENT" --host "$DN_HOST" --port "$DN_PORT" "$@"
}
# dn_client_bg SECONDS ARGS... — the same, ONLY for the background: `dn_client_bg ... &`.
# It execs, so $! is the PID of `timeout` itself, not of a subshell around it (a SIGTERM
# to a subshell would leave timeout and the client running).
dn_client_bg() {
  local limit=$1
  shift
  exec timeout -k 2 "$limit" "$DN_CLIENT" --host "$DN_HOST" --port "$DN_PORT" "$@"
}

# dn_tcp SECONDS COMMAND — one raw TCP command (bash's /dev/tcp, no client involved); prints
# the reply up to and including its END line (or everything until the server closes).
dn_tcp() {
  local limit=$1 cmd=$2
  timeout -k 2 "$limit" bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 4
    printf "%s\nQUIT\n" "$3" >&3
    while IFS= read -r line <&3; do
      [[ $line == BYE ]] && break
      printf "%s\n" "$line"
    done' dn_tcp "$DN_HOST" "$DN_PORT" "$cmd"
}

# Percentile P (0-100) of a file of numbers, nearest-rank; "-" when empty.
dn_percentile() {
  sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print v[r] }'
}
