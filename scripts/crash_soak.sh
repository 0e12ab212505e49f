#!/usr/bin/env bash
# crash_soak.sh — kill -9 the server under load, again and again, and check that no
# acknowledged note is ever lost or stored twice. See --help.
set -u
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<'EOF'
usage: scripts/crash_soak.sh [--cycles K] [--modes LIST] [options]

For each --fsync mode: a server on a free loopback port with a temporary store; then K
cycles of: several `dailynet send --print-seq` senders (acknowledgements into files),
`kill -9` of the server at a random moment, the senders killed too (by PID), a restart on
the same store and port. One more sender per cycle (the "survivor") is not killed: it lives
through the crash and must finish after the restart with every note acknowledged once.
After every restart:
  - the store passed the server's own start-up check (it started; a torn tail it cut is
    counted as repaired; a refusal to start is a failure);
  - every note acknowledged so far is in HISTORY exactly once, under the acknowledged seq;
  - no note appears twice; seqs are 1..M without gaps; the history before the crash is
    still its prefix (seqs continue, nothing changed).
Per mode it prints: cycles, notes acknowledged, lost (must be 0), duplicates (must be 0),
torn tails repaired (of them injected), survivors that finished.

  --cycles K        cycles per mode (default 10; 100 for a long soak)
  --modes LIST      comma-separated fsync modes (default always,everysec,never)
  --senders S       killed senders per cycle (default 4), plus one survivor
  --notes N         notes per killed sender per cycle (default 3000), fed at --rate
  --rate N          notes per second fed to each sender, about (default 2000); the
                    survivor gets half the rate and half the notes
  --kill-after A-B  the kill comes a random A..B ms after the senders start (default 50-900)
  --tear-every N    every Nth cycle, after the kill, append half a note line to notes.log
                    (what a crash in the middle of a write leaves): the restart must cut
                    it and say "torn" (default 3; 0 = never)
  --seed N          seed for the random kill moments (printed, to repeat a run)
  --quiet           no line per cycle
  --keep            keep the temporary directory (stores, acks, logs)
  -h, --help        this text

Ends with "N passed, N failed": one check per mode and property; exit 0 only if none failed.
EOF
}

CYCLES=10
MODES=always,everysec,never
SENDERS=4
NOTES=3000
RATE=2000
TEAR=3
KMIN=50
KMAX=900
SEED=$(( ($$ * 7919 + ${EPOCHSECONDS:-0}) % 32768 ))
QUIET=0
num() { [[ $2 =~ ^[0-9]+$ ]] || dn_die "$1 wants a number, not '$2'"; }
while (($#)); do
  case $1 in
    --cycles) num "$1" "${2-}"; CYCLES=$2; shift ;;
    --modes) [[ $# -ge 2 ]] || dn_die "--modes needs a list"; MODES=$2; shift ;;
    --senders) num "$1" "${2-}"; SENDERS=$2; shift ;;
    --notes) num "$1" "${2-}"; NOTES=$2; shift ;;
    --rate) num "$1" "${2-}"; RATE=$2; shift ;;
    --kill-after)
      [[ ${2-} =~ ^([0-9]+)-([0-9]+)$ ]] || dn_die "--kill-after wants A-B (milliseconds)"
      KMIN=${BASH_REMATCH[1]} KMAX=${BASH_REMATCH[2]}
      ((KMAX >= KMIN && KMAX <= 60000)) || dn_die "--kill-after wants A <= B <= 60000"
      shift ;;
    --seed) num "$1" "${2-}"; SEED=$2; shift ;;
    --tear-every) num "$1" "${2-}"; TEAR=$2; shift ;;
    --quiet | -q) QUIET=1 ;;
    --keep) DN_KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) dn_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
((CYCLES >= 1 && CYCLES <= 100000)) || dn_die "--cycles wants 1..100000"
((SENDERS >= 1 && SENDERS <= 200)) || dn_die "--senders wants 1..200"
((NOTES >= 1)) || dn_die "--notes wants at least 1"
IFS=, read -r -a MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
  [[ $m =~ ^(always|everysec|never)$ ]] || dn_die "--modes: '$m' is not always, everysec or never"
done
dn_need_binaries "$DN_SERVER" "$DN_CLIENT"
dn_init
export LC_ALL=C
RANDOM=$SEED
((RATE >= 100)) || dn_die "--rate wants at least 100"
CHUNK=$((RATE / 100))
SURVIVOR_NOTES=$((NOTES / 2 + 1))
PAUSE_FIFO=$DN_TMP/pause
mkfifo "$PAUSE_FIFO"
echo "crash soak: ${MODE_LIST[*]}; $CYCLES cycles each; $SENDERS senders x $NOTES notes + 1 survivor x $SURVIVOR_NOTES per cycle, about $RATE notes/s each; kill after $KMIN-$KMAX ms; seed $SEED"

# ---- one mode ---------------------------------------------------------------------------------------
# state of the mode being run
M=            # mode
D=            # its directory
PORT=0
ACKED=        # every acknowledgement so far: TEXT<TAB>SEQ, sorted by text
PREV_H=       # the history verified after the previous restart
n_acked=0 n_lost=0 n_dups=0 n_torn=0 n_start_fail=0 n_gap=0 n_prefix=0 n_seqmis=0
n_surv=0 n_surv_ok=0 n_verify=0 n_hist_fail=0 n_inject=0 n_inject_missed=0

# start (or restart) the server on the mode's store and port; bounded retries if the port
# is still held (exit 4). Returns 0 when ready.
start_server() {
  local k=$1 try rc
  DN_SERVER_ERR_FILE=$D/server.err.$k
  for try in 1 2 3 4 5; do
    dn_server_start "$D/store" --port "$PORT" --fsync "$M" --idle-timeout 600
    rc=$?
    ((rc == 0)) && break
    ((rc == 4)) || break
    sleep 0.2
  done
  if ((rc != 0)); then
    n_start_fail=$((n_start_fail + 1))
    echo "  $M cycle $k: the server did not start (status $rc): $(tail -n 2 "$DN_SERVER_ERR_FILE" | tr '\n' ' ')"
    return 1
  fi
  PORT=$DN_PORT
  if grep -q torn "$DN_SERVER_ERR_FILE"; then
    n_torn=$((n_torn + 1))
    TORN_NOTE=" torn tail cut: $(grep -m1 -o 'at byte [0-9]*: [0-9]* bytes' "$DN_SERVER_ERR_FILE")"
  else
    TORN_NOTE=
  fi
  return 0
}

# add a finished sender's acknowledgements to ACKED
absorb_acks() {
  local f=$1
  [[ -s $f ]] || return 0
  n_acked=$((n_acked + $(wc -l <"$f")))
  awk -F'\t' '{ print $2 "\t" $1 }' "$f" | sort -t $'\t' -k1,1 >"$ACKED.add"
  sort -t $'\t' -k1,1 -m "$ACKED.add" "$ACKED" >"$ACKED.new"
  mv "$ACKED.new" "$ACKED"
  rm -f "$ACKED.add"
}

# the checks after a restart; prints a short verdict into VERDICT
verify() {
  local k=$1 H=$D/H.$k lines gaps dups lost mism bytes rc
  n_verify=$((n_verify + 1))
  dn_client 120 history --format tsv >"$H.raw" 2>"$D/history.err"
  rc=$?
  awk '!/^END [0-9]+$/' "$H.raw" >"$H"
  rm -f "$H.raw"
  if ((rc != 0)); then
    n_hist_fail=$((n_hist_fail + 1))
    VERDICT="HISTORY failed: $(head -n 1 "$D/history.err")"
    return 1
  fi
  lines=$(wc -l <"$H")
  # seqs 1..M without gaps, except seqs whose whole line a restart cut to a torn side file
  # (a kill between the two writes of a commit: never acknowledged, never given again)
  cat "$D/store"/notes.log.torn-* 2>/dev/null | awk -F'\t' 'NF >= 4 { print $1 }' >"$D/torn_seqs"
  gaps=$(awk -F'\t' 'FILENAME == ARGV[1] { torn[$1] = 1; next }
    { while (++e < $1) if (!(e in torn)) bad++; if ($1 != e) { bad++; e = $1 } }
    END { print bad + 0 }' "$D/torn_seqs" "$H")
  ((gaps)) && n_gap=$((n_gap + 1))
  # nothing before the crash changed: the previous verified history is a prefix
  if [[ -n $PREV_H && -f $PREV_H ]]; then
    bytes=$(stat -c %s "$PREV_H")
    cmp -s -n "$bytes" "$PREV_H" "$H" || n_prefix=$((n_prefix + 1))
    rm -f "$PREV_H"
  fi
  PREV_H=$H
  awk -F'\t' '{ print $4 "\t" $1 }' "$H" | sort -t $'\t' -k1,1 >"$D/stored"
  dups=$(cut -f1 "$D/stored" | uniq -d | wc -l)
  lost=$(join -t $'\t' -v 1 "$ACKED" "$D/stored" | wc -l)
  mism=$(join -t $'\t' "$ACKED" "$D/stored" | awk -F'\t' '$2 != "-" && $2 != $3' | wc -l)
  n_lost=$((n_lost + lost))
  n_dups=$((n_dups + dups))
  n_seqmis=$((n_seqmis + mism))
  VERDICT="store $lines notes"
  ((gaps + dups + lost + mism)) && VERDICT+="  LOST $lost, TWICE $dups, WRONG SEQ $mism, GAPS $gaps" || VERDICT+=", ok"
  if ((lost)); then join -t $'\t' -v 1 "$ACKED" "$D/stored" | head -n 3 | sed 's/^/      lost: /'; fi
  return 0
}

# feeder COUNT CHUNK PREFIX TEXT — the input of one sender: COUNT lines "PREFIX-nNNNNNN TEXT",
# CHUNK lines about every 10 ms, so the load lasts and the kill lands in the middle of it.
# The pause is a bounded read on a FIFO nobody writes to: no process per pause. Ends at
# COUNT lines, on SIGTERM, or (SIGPIPE) when its sender is gone.
feeder() {
  local count=$1 chunk=$2 prefix=$3 text=$4 i=0 j buf line pause
  trap 'exit 0' TERM
  exec {pause}<>"$PAUSE_FIFO"
  while ((i < count)); do
    buf=
    for ((j = 0; j < chunk && i < count; j++, i++)); do
      printf -v line '%s-n%06d %s\n' "$prefix" "$i" "$text"
      buf+=$line
    done
    printf '%s' "$buf" || exit 0
    read -r -t 0.01 -u "$pause" _
  done
  exit 0
}

# start_sender NAME COUNT CHUNK TEXT — a feeder and its `dailynet send --print-seq` joined by
# a FIFO; sets FEED_PID and SEND_PID (both tracked); acks in $D/acks/NAME
start_sender() {
  local name=$1 count=$2 chunk=$3 text=$4 fifo=$D/fifo.$1
  rm -f "$fifo"
  mkfifo "$fifo"
  feeder "$count" "$chunk" "$M-$name" "$text" >"$fifo" &
  FEED_PID=$!
  dn_track "$FEED_PID" "feeder $name"
  dn_client_bg 120 send --print-seq <"$fifo" >"$D/acks/$name" 2>"$D/acks/$name.err" &
  SEND_PID=$!
  dn_track "$SEND_PID" "sender $name" group
}

SURV_PID=
SURV_FEED=
SURV_ACKS=
# wait (bounded) for the survivor of the previous cycle to finish, then take its acks
finish_survivor() {
  local rc
  [[ -n $SURV_PID ]] || return 0
  dn_wait_exit "$SURV_PID" 40
  rc=$?
  if ((rc == 255)); then dn_stop "$SURV_PID"; rc=124; fi
  dn_stop "$SURV_FEED" >/dev/null
  n_surv=$((n_surv + 1))
  if ((rc == 0)); then
    n_surv_ok=$((n_surv_ok + 1))
    SURV_NOTE=
  else
    SURV_NOTE=" survivor exit $rc ($(head -n 1 "$SURV_ACKS.err"))"
  fi
  absorb_acks "$SURV_ACKS"
  SURV_PID=
}

declare -A R_CYCLES R_ACKED R_LOST R_DUPS R_TORN R_SURV
run_mode() {
  M=$1
  D=$DN_TMP/$M
  mkdir -p "$D/acks"
  ACKED=$D/acked
  : >"$ACKED"
  PREV_H=
  PORT=0
  n_acked=0 n_lost=0 n_dups=0 n_torn=0 n_start_fail=0 n_gap=0 n_prefix=0 n_seqmis=0
  n_surv=0 n_surv_ok=0 n_verify=0 n_hist_fail=0 n_inject=0 n_inject_missed=0
  local injected k s pid delay pids feeds names=() name running acked_now done_cycles=0
  echo
  echo "== --fsync $M"
  if ! start_server 0; then
    dn_fail "$M: the server does not start on a fresh store"
    return
  fi
  for ((k = 1; k <= CYCLES; k++)); do
    pids=() feeds=() names=()
    for ((s = 1; s <= SENDERS; s++)); do
      printf -v name 'k%04d-s%03d' "$k" "$s"
      start_sender "$name" "$NOTES" "$CHUNK" "crash soak note"
      pids+=("$SEND_PID") feeds+=("$FEED_PID") names+=("$name")
    done
    printf -v name 'k%04d-v' "$k"
    start_sender "$name" "$SURVIVOR_NOTES" "$((CHUNK / 2 + 1))" "survivor note"
    SURV_PID=$SEND_PID SURV_FEED=$FEED_PID SURV_ACKS=$D/acks/$name
    # The survivor must have reached this server once before the crash: a sender that never
    # got an answer and then meets "port unreachable" rightly reports "no server" (exit 4).
    # On a loaded machine its first acknowledgement can take longer than the shortest delay.
    survivor_started() { [[ -s $SURV_ACKS ]]; }
    dn_poll 20 survivor_started || true
    delay=$((KMIN + RANDOM % (KMAX - KMIN + 1)))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    running=0
    for pid in "${pids[@]}"; do dn_alive "$pid" && running=$((running + 1)); done
    # the crash, then the killed senders (by PID; SIGTERM to their `timeout` reaches them)
    dn_server_kill9
    for pid in "${pids[@]}" "${feeds[@]}"; do kill -s TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}" "${feeds[@]}"; do dn_stop "$pid" >/dev/null; done
    acked_now=0
    for name in "${names[@]}"; do
      acked_now=$((acked_now + $(wc -l <"$D/acks/$name")))
      absorb_acks "$D/acks/$name"
    done
    # a torn tail, as a crash in the middle of a write leaves it: half a note line
    injected=0
    if ((TEAR > 0 && k % TEAR == 0)); then
      printf '%d\t2026-01-01T00:00:00.000Z\t127.0.0.1:9\tcrash soak torn tail mar' \
        "$(($(wc -l <"$D/store/notes.log") + 1))" >>"$D/store/notes.log"
      injected=1
      n_inject=$((n_inject + 1))
    fi
    # restart on the same store and port; the survivor carries on against it
    if ! start_server "$k"; then
      dn_stop "$SURV_PID" >/dev/null
      dn_stop "$SURV_FEED" >/dev/null
      SURV_PID=
      break
    fi
    if ((injected)) && [[ -z $TORN_NOTE ]]; then
      n_inject_missed=$((n_inject_missed + 1))
      TORN_NOTE=" INJECTED TORN TAIL NOT REPORTED"
    fi
    finish_survivor
    verify "$k"
    if ((injected)) && grep -q 'torn tail mar' "$D/H.$k"; then
      n_inject_missed=$((n_inject_missed + 1))
      VERDICT+="  INJECTED TORN TAIL KEPT"
    fi
    done_cycles=$k
    ((QUIET)) || printf '  %-8s cycle %3d/%d: kill -9 after %4d ms (%d/%d senders running, %5d acks)  %s%s%s\n' \
      "$M" "$k" "$CYCLES" "$delay" "$running" "$SENDERS" "$acked_now" "$VERDICT" "${TORN_NOTE:-}" "${SURV_NOTE:-}"
    rm -f "$D"/acks/* "$D"/fifo.*
  done
  finish_survivor
  dn_server_stop
  local stop_rc=$?

  R_CYCLES[$M]=$done_cycles R_ACKED[$M]=$n_acked R_LOST[$M]=$n_lost R_DUPS[$M]=$n_dups
  R_TORN[$M]="$n_torn ($n_inject inj.)" R_SURV[$M]="$n_surv_ok/$n_surv"
  ((done_cycles == CYCLES && n_start_fail == 0)) &&
    dn_pass "$M: the store passed the server's start-up check after all $CYCLES crashes" ||
    dn_fail "$M: $n_start_fail restarts failed; $done_cycles of $CYCLES cycles done"
  if ((n_inject > 0)); then
    ((n_inject_missed == 0)) &&
      dn_pass "$M: $n_torn torn tails cut and reported at restart ($n_inject injected, all cut)" ||
      dn_fail "$M: $n_inject_missed of $n_inject injected torn tails not reported or not cut"
  fi
  ((n_lost == 0 && n_seqmis == 0 && n_hist_fail == 0 && n_verify > 0)) &&
    dn_pass "$M: every acknowledged note present, under its acknowledged seq ($n_acked acknowledged)" ||
    dn_fail "$M: $n_lost acknowledged notes lost, $n_seqmis under another seq, $n_hist_fail HISTORY failures"
  ((n_dups == 0 && n_verify > 0)) && dn_pass "$M: no note stored twice" ||
    dn_fail "$M: $n_dups notes stored twice"
  ((n_gap == 0 && n_prefix == 0 && n_verify > 0)) &&
    dn_pass "$M: seqs gap-free and continued after every restart (history before the crash unchanged)" ||
    dn_fail "$M: $n_gap restarts with seq gaps, $n_prefix with the history before the crash changed"
  ((n_surv > 0 && n_surv_ok == n_surv)) &&
    dn_pass "$M: $n_surv senders lived through a crash and got every note acknowledged" ||
    dn_fail "$M: $((n_surv - n_surv_ok)) of $n_surv senders that lived through a crash did not finish"
  if ((stop_rc != 0)); then
    dn_fail "$M: at the end the server exited $stop_rc on SIGTERM"
  elif [[ -z $PREV_H ]] || ! cmp -s "$D/store/notes.log" "$PREV_H"; then
    dn_fail "$M: at the end the store file differs from the last HISTORY"
  else
    dn_pass "$M: SIGTERM stops the server with status 0; the store equals the last HISTORY"
  fi
}

T0=$(dn_now)
for m in "${MODE_LIST[@]}"; do
  run_mode "$m"
done
echo
printf '  %-9s %7s %12s %6s %11s %18s %10s\n' mode cycles acknowledged lost duplicates "torn repaired" survivors
for m in "${MODE_LIST[@]}"; do
  printf '  %-9s %7s %12s %6s %11s %18s %10s\n' "$m" "${R_CYCLES[$m]-0}" "${R_ACKED[$m]-0}" \
    "${R_LOST[$m]-?}" "${R_DUPS[$m]-?}" "${R_TORN[$m]-?}" "${R_SURV[$m]-?}"
done
echo "  elapsed $(dn_elapsed "$T0" "$(dn_now)") s; seed $SEED (repeat with --seed $SEED)"
echo
dn_finish
