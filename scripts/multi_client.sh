#!/usr/bin/env bash
# multi_client.sh — the scripted multi-client test: many concurrent `dailynet send` processes
# (each its own UDP source), readers looping `dailynet history`, one `dailynet follow`
# throughout; then every note is checked. See --help.
set -u
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<'EOF'
usage: scripts/multi_client.sh [-c CLIENTS] [-n NOTES] [-r READERS] [options]

Starts bin/dailynetd on a free loopback port with a temporary store (or uses the server given
with --host/--port), runs CLIENTS concurrent `dailynet send --print-seq` processes with NOTES
unique notes each, READERS loops of `dailynet history --format tsv` and one
`dailynet follow --format tsv` throughout, plus a latency probe; then checks every note and
prints one PASS/FAIL line per check, a table of figures, and "N passed, N failed".

  -c, --clients N     concurrent senders (default 20)
  -n, --notes N       notes per sender (default 500)
  -r, --readers N     history readers (default 3)
  --host H, --port P  use a running server instead of starting one (e.g. under gdb); the
                      store check then needs --store; a quiet server is assumed: notes from
                      others during the run make the follower and CLIENTS checks fail
  --store FILE        the notes.log of that server, for the store check
  --fsync MODE        --fsync of the server started here (default always)
  --time-limit SEC    bound on each sender and on the whole load phase
                      (default 120 + CLIENTS*NOTES/500)
  --no-probe          no latency probe (then no ack latency figures)
  --keep              keep the temporary directory (inputs, acks, snapshots, logs)
  -h, --help          this text

Checks: every client exited 0 and printed every acknowledgement; every note stored exactly
once; every acknowledgement names the seq the note was stored under; each client's notes in
the order it sent them; each client's notes from one address, distinct per client; `dailynet
clients` agrees with HISTORY (counts, first and last times); the follower saw every note in
seq order; every reader snapshot was a prefix of the final history; the store file equals
HISTORY; seqs unique and gap-free; the server stops cleanly on SIGTERM.

Figures: elapsed = first sender started to last sender done; notes/s = CLIENTS*NOTES/elapsed;
ack latency = round trip seen by the probe, a `dailynet send --print-seq` fed one note at a
time through a pipe during the load (note written -> its "SEQ<TAB>TEXT" line read), timed
by bash's $EPOCHREALTIME; client time = each sender's start to its exit (all NOTES
acknowledged).
EOF
}

CLIENTS=20
NOTES=500
READERS=3
EXT_HOST=
EXT_PORT=
EXT_STORE=
FSYNC=always
LIMIT=
PROBE=1
num() { [[ $2 =~ ^[0-9]+$ ]] || dn_die "$1 wants a number, not '$2'"; }
while (($#)); do
  case $1 in
    -c | --clients) num "$1" "${2-}"; CLIENTS=$2; shift ;;
    -n | --notes) num "$1" "${2-}"; NOTES=$2; shift ;;
    -r | --readers) num "$1" "${2-}"; READERS=$2; shift ;;
    --host) [[ $# -ge 2 ]] || dn_die "--host needs a value"; EXT_HOST=$2; shift ;;
    --port) num "$1" "${2-}"; EXT_PORT=$2; shift ;;
    --store) [[ $# -ge 2 ]] || dn_die "--store needs a file"; EXT_STORE=$2; shift ;;
    --fsync) [[ ${2-} =~ ^(always|everysec|never)$ ]] || dn_die "--fsync wants always, everysec or never"; FSYNC=$2; shift ;;
    --time-limit) num "$1" "${2-}"; LIMIT=$2; shift ;;
    --no-probe) PROBE=0 ;;
    --keep) DN_KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) dn_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
((CLIENTS >= 1 && CLIENTS <= 999)) || dn_die "--clients wants 1..999"
((NOTES >= 1 && NOTES <= 9999999)) || dn_die "--notes wants 1..9999999"
((READERS <= 50)) || dn_die "--readers wants 0..50"
TOTAL=$((CLIENTS * NOTES))
LIMIT=${LIMIT:-$((120 + TOTAL / 500))}
dn_need_binaries "$DN_CLIENT"
[[ -n $EXT_PORT ]] || dn_need_binaries "$DN_SERVER"
dn_init
export LC_ALL=C   # byte order for sort/comm/join; the wire format is not locale dependent

T=$DN_TMP
mkdir -p "$T/in" "$T/acks" "$T/err" "$T/readers"
STOP=$T/stop
TAG=mc$$x$RANDOM   # marks this run's notes (a shared server may hold others)

# ---- server -------------------------------------------------------------------------------------
OWN_SERVER=0
if [[ -n $EXT_PORT ]]; then
  DN_HOST=${EXT_HOST:-127.0.0.1}
  DN_PORT=$EXT_PORT
  STORE=$EXT_STORE
  dn_tcp 5 PING >"$T/ping" 2>&1
  if ! grep -q '^PONG' "$T/ping"; then
    dn_fail "no dailynet server answers PING at $DN_HOST:$DN_PORT"
    dn_finish
  fi
  echo "server: $DN_HOST:$DN_PORT (running already)"
else
  if ! dn_server_start "$T/store" --port 0 --fsync "$FSYNC" --idle-timeout 600; then
    dn_fail "server start (status $DN_SERVER_RC): $(tail -n 3 "$DN_SERVER_ERR")"
    dn_finish
  fi
  OWN_SERVER=1
  STORE=$T/store/notes.log
  echo "server: dailynetd pid $DN_SERVER_PID on $DN_HOST:$DN_PORT, --fsync $FSYNC, store $STORE"
fi
echo "load: $CLIENTS senders x $NOTES notes = $TOTAL notes, $READERS readers, 1 follower$( ((PROBE)) && echo ", 1 latency probe")"

# ---- inputs: c001-n000000 TAG text, unique per note, in sending order ---------------------------
awk -v C="$CLIENTS" -v N="$NOTES" -v tag="$TAG" -v dir="$T/in" 'BEGIN {
  k = split("bought milk|call mum|water the plants|日记: a quiet day|café au lait at 8|fix the bike|" \
            "read 20 pages|Grüße an alle|review the pull request|naïve résumé ✓", w, "|")
  cw = length(C "") < 3 ? 3 : length(C ""); nw = length((N - 1) "") < 6 ? 6 : length((N - 1) "")
  for (c = 1; c <= C; c++) {
    f = sprintf("%s/c%0" cw "d", dir, c)
    for (n = 0; n < N; n++) printf "c%0" cw "d-n%0" nw "d %s %s\n", c, n, tag, w[(c * 7 + n) % k + 1] > f
    close(f)
  }
}' &
GEN_PID=$!
dn_track "$GEN_PID" "input generator"
wait "$GEN_PID"   # (in the background so that Ctrl-C is handled at once)
dn_untrack "$GEN_PID"

# ---- follower, readers, probe ------------------------------------------------------------------------
dn_client_bg "$((LIMIT + 300))" follow --format tsv >"$T/follow.out" 2>"$T/err/follow" </dev/null &
FOLLOW_PID=$!
dn_track "$FOLLOW_PID" follower group

# A reader: HISTORY snapshots in a loop until $STOP exists. Each snapshot must extend the one
# before it (byte prefix); the last one is kept and compared with the final history, so by
# transitivity every snapshot is a prefix of it. Only two snapshots per reader are on disk.
reader() {
  local r=$1 dir=$T/readers/r$1 i=0 child= rc cur prev= prev_bytes=0 lines bytes last ok
  mkdir -p "$dir"
  trap '[[ -n $child ]] && kill -s TERM "$child" 2>/dev/null; exit 143' TERM
  while [[ ! -e $STOP ]] && ((i < 100000)); do
    cur=$dir/snap$((i % 2))
    dn_client_bg 120 history --format tsv >"$cur" 2>"$dir/err" </dev/null &
    child=$!
    wait "$child"
    rc=$?
    child=
    last=$(tail -n 1 "$cur")
    lines=$(wc -l <"$cur")
    bytes=$(stat -c %s "$cur")
    ok=1
    if [[ $last =~ ^END\ ([0-9]+)$ ]]; then     # the tsv output may carry HISTORY's END line
      ((BASH_REMATCH[1] == lines - 1)) || ok=0
      lines=$((lines - 1))
      bytes=$((bytes - ${#last} - 1))
    fi
    ((rc == 0)) || ok=0
    if ((ok && prev_bytes > 0)); then
      ((bytes >= prev_bytes)) && cmp -s -n "$prev_bytes" "$prev" "$cur" || ok=0
    fi
    printf '%d %d %d %d %d\n' "$i" "$rc" "$lines" "$bytes" "$ok" >>"$dir/log"
    if ((ok)); then prev=$cur; prev_bytes=$bytes; fi
    i=$((i + 1))
    ((ok)) || cp "$cur" "$dir/bad$i" 2>/dev/null
  done
  [[ -n $prev ]] && { cp "$prev" "$dir/last"; echo "$prev_bytes" >"$dir/last.bytes"; }
  exit 0
}
READER_PIDS=()
for ((r = 1; r <= READERS; r++)); do
  reader "$r" &
  dn_track $! "reader $r"
  READER_PIDS+=($!)
done

# The latency probe: one `dailynet send --print-seq` fed through a FIFO, one note at a time;
# the next is written only after the previous acknowledgement was read. Bounded: each
# acknowledgement is waited for at most 15 s; stops when $STOP exists.
probe() {
  local child= i=0 t0 t1 line
  mkfifo "$T/probe.to" "$T/probe.from" || exit 1
  trap '[[ -n $child ]] && kill -s TERM "$child" 2>/dev/null; exit 143' TERM
  dn_client_bg "$((LIMIT + 60))" send --print-seq <"$T/probe.to" >"$T/probe.from" 2>"$T/err/probe" &
  child=$!
  exec 5>"$T/probe.to" 6<"$T/probe.from"
  while [[ ! -e $STOP ]] && ((i < 1000000)); do
    printf -v line "p-n%07d %s latency probe" "$i" "$TAG"
    printf '%s\n' "$line" >>"$T/probe.in"
    t0=$EPOCHREALTIME
    printf '%s\n' "$line" >&5
    if ! IFS= read -r -t 15 ack <&6; then
      echo "no acknowledgement within 15 s for probe note $i" >>"$T/err/probe"
      break
    fi
    t1=$EPOCHREALTIME
    printf '%s\n' "$ack" >>"$T/probe.acks"
    echo "${t0/,/.} ${t1/,/.}" >>"$T/probe.times"
    i=$((i + 1))
  done
  exec 5>&-
  while IFS= read -r -t 15 ack <&6; do printf '%s\n' "$ack" >>"$T/probe.acks"; done
  wait "$child"
  echo $? >"$T/probe.rc"
  exit 0
}
if ((PROBE)); then
  : >"$T/probe.in"
  probe &
  PROBE_PID=$!
  dn_track "$PROBE_PID" probe
fi

# ---- the senders ----------------------------------------------------------------------------------
declare -A START=() END=() RC=() WHO=()
CLIENT_PIDS=()
T0=$(dn_now)
for f in "$T"/in/c*; do
  c=${f##*/}
  dn_client_bg "$LIMIT" send --print-seq <"$f" >"$T/acks/$c" 2>"$T/err/$c" &
  pid=$!
  START[$pid]=${EPOCHREALTIME/,/.}   # (no subshell: spawning stays fast)
  WHO[$pid]=$c
  dn_track "$pid" "sender $c" group
  CLIENT_PIDS+=("$pid")
done
echo "started $CLIENTS senders in $(dn_elapsed "$T0" "$(dn_now)") s"
declare -A REMAIN=()
for pid in "${CLIENT_PIDS[@]}"; do REMAIN[$pid]=1; done
while ((${#REMAIN[@]} > 0)); do
  done_pid=
  wait -n -p done_pid "${!REMAIN[@]}"   # each sender is bounded by its `timeout`
  rc=$?
  [[ -n $done_pid ]] || continue   # interrupted by a signal: the trap has run
  END[$done_pid]=${EPOCHREALTIME/,/.}
  RC[$done_pid]=$rc
  unset "REMAIN[$done_pid]"
  dn_untrack "$done_pid"
done
T1=$(dn_now)
ELAPSED=$(dn_elapsed "$T0" "$T1")
echo "all senders done in $ELAPSED s"

touch "$STOP"
if ((PROBE)); then
  dn_wait_exit "$PROBE_PID" 40 || true
  dn_alive "$PROBE_PID" && dn_stop "$PROBE_PID"
fi
for pid in "${READER_PIDS[@]}"; do
  dn_wait_exit "$pid" 150 >/dev/null || true
  dn_alive "$pid" && dn_stop "$pid"
done

# ---- the final state ------------------------------------------------------------------------------------
dn_client 300 history --format tsv >"$T/history.raw" 2>"$T/err/history"
HIST_RC=$?
# H: the note lines alone (the tsv output may end in HISTORY's "END n")
awk '/^END [0-9]+$/ { end = $2; next } { print } END { if (end != "") print end > "/dev/stderr" }' \
  "$T/history.raw" >"$T/H" 2>"$T/H.end"
HLINES=$(wc -l <"$T/H")
dn_client 60 clients --format tsv >"$T/clients.raw" 2>"$T/err/clients"
CLIENTS_RC=$?
# the follower: wait (bounded) until it has printed as many lines as the final history
follow_caught_up() { (($(wc -l <"$T/follow.out") >= HLINES)); }
dn_poll 60 follow_caught_up
dn_stop "$FOLLOW_PID"

# ---- checks ------------------------------------------------------------------------------------------------
echo
bad_rc=0 short=0 details=
for pid in "${CLIENT_PIDS[@]}"; do
  c=${WHO[$pid]}
  n=$(wc -l <"$T/acks/$c")
  if ((RC[$pid] != 0)); then
    bad_rc=$((bad_rc + 1))
    details+=" $c:exit=${RC[$pid]}($(head -c 120 "$T/err/$c" | head -n 1))"
  fi
  ((n == NOTES)) || { short=$((short + 1)); details+=" $c:acks=$n"; }
done
((bad_rc == 0 && short == 0)) &&
  dn_pass "all $CLIENTS senders exited 0 and printed $NOTES acknowledgements each" ||
  dn_fail "senders: $bad_rc exited non-zero, $short printed too few acknowledgements:${details:0:600}"
[[ $HIST_RC == 0 && -s $T/H ]] || dn_fail "final dailynet history exited $HIST_RC: $(head -n 2 "$T/err/history")"

# all notes of this run that were sent: the senders' inputs plus what the probe wrote
cat "$T"/in/c* "$T/probe.in" 2>/dev/null | sort >"$T/sent"
awk -F'\t' -v tag="$TAG" '{ split($4, w, " "); if (w[2] == tag) print $4 }' "$T/H" | sort >"$T/stored"
dups=$(uniq -d "$T/stored" | wc -l)
uniq "$T/stored" >"$T/stored.u"
missing=$(comm -23 "$T/sent" "$T/stored.u" | wc -l)
extra=$(comm -13 "$T/sent" "$T/stored.u" | wc -l)
nsent=$(wc -l <"$T/sent")
if ((dups == 0 && missing == 0 && extra == 0)); then
  dn_pass "every note stored exactly once ($nsent notes)"
else
  dn_fail "exactly once: $missing missing, $dups stored more than once, $extra never sent (of $nsent)"
  comm -23 "$T/sent" "$T/stored.u" | head -n 3 | sed 's/^/      missing: /'
fi

# acknowledgements vs the store: join on the text; "-" = acknowledged, seq no longer known
cat "$T"/acks/c* "$T/probe.acks" 2>/dev/null | awk -F'\t' '{ print $2 "\t" $1 }' | sort -t $'\t' -k1,1 >"$T/acked"
awk -F'\t' '{ print $4 "\t" $1 }' "$T/H" | sort -t $'\t' -k1,1 >"$T/byseq"
nacked=$(wc -l <"$T/acked")
mism=$(join -t $'\t' -j 1 "$T/acked" "$T/byseq" | awk -F'\t' '$2 != "-" && $2 != $3' | wc -l)
unmatched=$(join -t $'\t' -v 1 "$T/acked" "$T/byseq" | wc -l)
((mism == 0 && unmatched == 0 && nacked > 0)) &&
  dn_pass "every acknowledgement names the seq its note was stored under ($nacked acks)" ||
  dn_fail "acknowledgements: $mism name a different seq, $unmatched acknowledged notes not stored (of $nacked)"

# order and attribution, one pass over the history in seq order
awk -F'\t' -v tag="$TAG" -v out="$T/attrib" '
  { split($4, w, " "); if (w[2] != tag) next
    split(w[1], k, "-"); c = k[1]; n = substr(k[2], 2) + 0
    if ((c in last) && n <= last[c]) { disorder++; if (disorder <= 3) print "      " c ": note " n " stored after note " last[c] > "/dev/stderr" }
    last[c] = n
    if ((c in addr) && addr[c] != $3) { split_addr++; if (split_addr <= 3) print "      " c ": from " addr[c] " and from " $3 > "/dev/stderr" }
    if (!(c in addr)) { addr[c] = $3; lo[c] = $1 + 0 }
    hi[c] = $1 + 0
    cnt[c]++ }
  END {
    # Two clients may share an address only one after the other (a finished sender'"'"'s
    # ephemeral port taken again by a later one): sharing counts when their seq spans overlap.
    for (c in addr) { nc++; print c "\t" addr[c] "\t" cnt[c] > out
      for (d in addr) if (c < d && addr[c] == addr[d] && lo[c] <= hi[d] && lo[d] <= hi[c]) {
        shared++; print "      " c " and " d ": both from " addr[c] " at the same time" > "/dev/stderr" } }
    printf "%d %d %d %d\n", disorder, split_addr, shared, nc }' "$T/H" >"$T/attrib.sum" 2>"$T/attrib.why"
read -r disorder split_addr shared nclients <"$T/attrib.sum"
nprobe_in=$(dn_lines "$T/probe.in")
expect_clients=$((CLIENTS + (nprobe_in > 0 ? 1 : 0)))
((disorder == 0)) && dn_pass "each client's notes stored in the order it sent them" ||
  { dn_fail "order: $disorder notes stored out of their client's order"; cat "$T/attrib.why"; }
((split_addr == 0 && shared == 0 && nclients == expect_clients)) &&
  dn_pass "each client's notes attributed to one address, distinct among clients at the same time ($nclients clients)" ||
  { dn_fail "attribution: $split_addr notes from a second address, $shared clients sharing an address, $nclients clients seen (expected $expect_clients)"; grep -v 'stored after' "$T/attrib.why"; }

# CLIENTS vs HISTORY: per address the count and the first and last note times
awk -F'\t' '/^END/ { next } NF >= 4 { print $1 "\t" $2 "\t" $3 "\t" $4 }' "$T/clients.raw" | sort >"$T/clients.got"
awk -F'\t' '{ if (!($3 in n)) { first[$3] = $2 } n[$3]++; lastt[$3] = $2 }
  END { for (a in n) print a "\t" n[a] "\t" first[a] "\t" lastt[a] }' "$T/H" | sort >"$T/clients.want"
if [[ $CLIENTS_RC == 0 ]] && cmp -s "$T/clients.got" "$T/clients.want"; then
  dn_pass "dailynet clients agrees with HISTORY: $(wc -l <"$T/clients.want") addresses, counts and first/last times"
else
  dn_fail "dailynet clients (exit $CLIENTS_RC) disagrees with HISTORY: $(diff "$T/clients.want" "$T/clients.got" | grep -c '^[<>]') lines differ"
  diff "$T/clients.want" "$T/clients.got" | head -n 4 | sed 's/^/      /'
fi

# the follower: exactly the final history, line for line (history first, then live, in seq order)
flines=$(wc -l <"$T/follow.out")
if cmp -s "$T/follow.out" "$T/H"; then
  dn_pass "the follower saw every note once, in seq order ($flines lines)"
else
  fo=$(awk -F'\t' '$1 + 0 != NR { bad++ } END { print bad + 0 }' "$T/follow.out")
  dn_fail "the follower: $flines lines for $HLINES notes, $fo out of place; $(head -n 1 "$T/err/follow")"
fi

# readers
snaps=0 badsnaps=0 last_bad=0
for ((r = 1; r <= READERS; r++)); do
  d=$T/readers/r$r
  if [[ -f $d/log ]]; then
    snaps=$((snaps + $(wc -l <"$d/log")))
    badsnaps=$((badsnaps + $(awk '$5 != 1' "$d/log" | wc -l)))
  fi
  if [[ -f $d/last ]]; then
    cmp -s -n "$(cat "$d/last.bytes")" "$d/last" "$T/H" || last_bad=$((last_bad + 1))
  fi
done
if ((READERS == 0)); then
  dn_skip "no readers (-r 0)"
elif ((snaps > 0 && badsnaps == 0 && last_bad == 0)); then
  dn_pass "every reader snapshot was a prefix of the final history ($snaps snapshots by $READERS readers)"
else
  dn_fail "reader snapshots: $snaps taken, $badsnaps failed or did not extend the previous one, $last_bad readers' last snapshot is not a prefix of the final history"
fi

# the store file vs HISTORY
if ((OWN_SERVER)); then
  dn_server_stop
  src=$?
  ((src == 0)) && dn_pass "the server stopped on SIGTERM with status 0" || dn_fail "the server exited $src on SIGTERM"
fi
if [[ -n $STORE && -f $STORE ]]; then
  cmp -s "$STORE" "$T/H" && dn_pass "the store file equals HISTORY, byte for byte ($(stat -c %s "$STORE") bytes)" ||
    dn_fail "the store file differs from HISTORY: $(cmp "$STORE" "$T/H" 2>&1 | head -n 1)"
else
  dn_skip "store file check (a running server: give --store FILE)"
fi

# seqs
gaps=$(awk -F'\t' '$1 != NR { bad++ } END { print bad + 0 }' "$T/H")
hend=$(cat "$T/H.end" 2>/dev/null)
((gaps == 0 && HLINES > 0)) && [[ -z $hend || $hend == "$HLINES" ]] &&
  dn_pass "seqs unique and gap-free: 1..$HLINES${hend:+ (END $hend)}" ||
  dn_fail "seqs: $gaps lines out of 1..$HLINES, END ${hend:-none}"

# ---- figures ---------------------------------------------------------------------------------------------------
for pid in "${CLIENT_PIDS[@]}"; do
  [[ -n ${END[$pid]-} ]] && echo "${START[$pid]} ${END[$pid]}"
done | awk '{ printf "%.3f\n", $2 - $1 }' >"$T/client.secs"
awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' "$T/probe.times" 2>/dev/null >"$T/probe.ms"
nprobe=$(wc -l <"$T/probe.ms")
rate=$(awk -v n="$TOTAL" -v s="$ELAPSED" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
echo
printf '  %-22s %s\n' "notes" "$TOTAL from the senders$( ((nprobe)) && echo " (+$nprobe from the probe)")"
printf '  %-22s %s\n' "clients" "$CLIENTS senders x $NOTES notes, $READERS readers ($snaps snapshots), 1 follower"
printf '  %-22s %s\n' "elapsed" "$ELAPSED s (first sender started -> last sender done)"
printf '  %-22s %s\n' "notes/s" "$rate"
if ((nprobe > 0)); then
  printf '  %-22s %s\n' "ack latency p50/p99" "$(dn_percentile 50 "$T/probe.ms") / $(dn_percentile 99 "$T/probe.ms") ms ($nprobe round trips of the probe under load)"
else
  printf '  %-22s %s\n' "ack latency p50/p99" "- (no probe samples)"
fi
printf '  %-22s %s\n' "sender time p50/p99" "$(dn_percentile 50 "$T/client.secs") / $(dn_percentile 99 "$T/client.secs") s (start -> all $NOTES acknowledged)"
echo
dn_finish
