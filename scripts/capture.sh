#!/usr/bin/env bash
# capture.sh — watch the two dailynet protocols on the wire.
#
# Starts a server on a free loopback port with a temporary store, captures its UDP and TCP
# traffic with tcpdump while a short scripted session runs (plain notes as `nc -u` would send
# them, one refused note, notes from the official client, one HISTORY), saves the .pcap and
# prints an annotated decode: which datagram is a note and which is its OK, the refused note
# and its ERR, the TCP handshake, the HISTORY request and its streamed reply, the close.
set -u
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<'EOF'
usage: scripts/capture.sh [-o FILE] [--raw] [--hex] [--keep]

Captures a short scripted dailynet session on loopback with tcpdump and explains it packet
by packet. The server is started on a free port with a temporary store.

  -o FILE, --output FILE  where to save the capture (default: ./dailynet-capture.pcap)
  --raw                   no official client: plain datagrams and a raw HISTORY only
                          (what nc would do); by default `dailynet send` and
                          `dailynet history` are used as well
  --hex                   also print tcpdump's own hex/ASCII dump under each packet
  --keep                  keep the temporary store and logs (path printed)
  -h, --help              this text

The session: 2 plain notes (one datagram each, like `echo note | nc -u`), 1 refused plain
note (it holds a TAB), 2 notes through `dailynet send` (one marked datagram), then HISTORY
over TCP. Needs tcpdump and the right to capture (root or CAP_NET_RAW); as root on Debian it
installs tcpdump with apt-get when missing.

Read the capture again later with:   tcpdump -r FILE -n -A      or open it in Wireshark.
Ends with "N passed, N failed"; exit status 0 only if every step was seen on the wire.
EOF
}

OUT=$PWD/dailynet-capture.pcap
RAW=0
HEX=0
while (($#)); do
  case $1 in
    -o | --output) [[ $# -ge 2 ]] || dn_die "$1 needs a file name"; OUT=$2; shift ;;
    --output=*) OUT=${1#*=} ;;
    --raw) RAW=1 ;;
    --hex) HEX=1 ;;
    --keep) DN_KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) dn_die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
[[ $OUT == /* ]] || OUT=$PWD/$OUT

dn_need_binaries "$DN_SERVER"
((RAW)) || dn_need_binaries "$DN_CLIENT"
dn_init

# ---- tcpdump ---------------------------------------------------------------------------------
if ! command -v tcpdump >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "tcpdump is missing: installing Debian's tcpdump package"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get install -y -qq tcpdump >/dev/null 2>&1 ||
      { timeout 300 apt-get update -qq >/dev/null 2>&1 &&
        timeout 300 apt-get install -y -qq tcpdump >/dev/null 2>&1; }
  fi
  if ! command -v tcpdump >/dev/null 2>&1; then
    dn_fail "tcpdump is needed: install it with 'sudo apt-get install tcpdump' (or run this as root)"
    dn_finish
  fi
fi
TCPDUMP=$(command -v tcpdump)
# As root, Debian's tcpdump drops to user "tcpdump" and then may not write FILE: stay root.
TD_USER=()
[[ $(id -u) == 0 ]] && TD_USER=(-Z root)

mkdir -p "$(dirname "$OUT")" || dn_die "cannot create the directory of $OUT"
rm -f -- "$OUT"

# ---- server ----------------------------------------------------------------------------------
if ! dn_server_start "$DN_TMP/store" --port 0 --host 127.0.0.1; then
  dn_fail "server start (status $DN_SERVER_RC): $(tail -n 3 "$DN_SERVER_ERR")"
  dn_finish
fi
PORT=$DN_PORT
echo "server: dailynetd on 127.0.0.1 port $PORT (UDP and TCP), store $DN_TMP/store"

# ---- capture ---------------------------------------------------------------------------------
"$TCPDUMP" -i lo -n -U --immediate-mode -s 0 "${TD_USER[@]}" -w "$OUT" "port $PORT" \
  >"$DN_TMP/tcpdump.out" 2>"$DN_TMP/tcpdump.err" </dev/null &
TD_PID=$!
dn_track "$TD_PID" tcpdump
td_listening() { grep -q 'listening on' "$DN_TMP/tcpdump.err"; }
if ! dn_poll 10 td_listening; then
  dn_fail "tcpdump did not start capturing: $(tail -n 2 "$DN_TMP/tcpdump.err")"
  if grep -qiE 'permission|operation not permitted' "$DN_TMP/tcpdump.err"; then
    echo "capturing needs root or CAP_NET_RAW: run with sudo, or" \
      "'sudo setcap cap_net_raw,cap_net_admin=eip $TCPDUMP'"
  fi
  dn_finish
fi
dn_pass "tcpdump is capturing on lo, filter 'port $PORT'"
sleep 0.2   # libpcap's ring may still be arming just after the banner; harmless if not

# ---- the scripted session ----------------------------------------------------------------------
# One datagram out, its one reply back: bash's /dev/udp, like `nc -u`; dd reads one datagram.
udp_ask() {
  timeout -k 1 3 bash -c 'exec 3<>"/dev/udp/$1/$2" || exit 4
    printf "%s" "$3" >&3; dd bs=65536 count=1 <&3 2>/dev/null' udp_ask 127.0.0.1 "$PORT" "$1"
}
echo
echo "session:"
r1=$(udp_ask $'bought milk\n')
echo "  plain note 'bought milk'        -> ${r1%$'\n'}"
r2=$(udp_ask $'call the plumber\n')
echo "  plain note 'call the plumber'   -> ${r2%$'\n'}"
r3=$(udp_ask $'bad\ttab')
echo "  plain note 'bad<TAB>tab'        -> ${r3%$'\n'}"
[[ $r1 == "OK 1" && $r2 == "OK 2" ]] && dn_pass "plain notes acknowledged: OK 1, OK 2" ||
  dn_fail "plain notes: expected 'OK 1' and 'OK 2', got '${r1%$'\n'}' and '${r2%$'\n'}'"
[[ $r3 == ERR* ]] && dn_pass "note with a TAB refused: ${r3%$'\n'}" ||
  dn_fail "note with a TAB: expected ERR, got '${r3%$'\n'}'"
expected_notes=2
if ((RAW == 0)); then
  printf 'water the plants\n日记: café at 8\n' |
    timeout -k 2 10 "$DN_CLIENT" --host 127.0.0.1 --port "$PORT" send >"$DN_TMP/send.out" 2>&1
  rc=$?
  echo "  dailynet send (2 notes)         -> exit $rc"
  ((rc == 0)) && dn_pass "dailynet send: 2 notes acknowledged" ||
    dn_fail "dailynet send exited $rc: $(head -n 2 "$DN_TMP/send.out")"
  expected_notes=4
  timeout -k 2 10 "$DN_CLIENT" --host 127.0.0.1 --port "$PORT" history --format tsv \
    >"$DN_TMP/history.out" 2>&1
  rc=$?
  echo "  dailynet history                -> exit $rc, $(grep -c $'^[0-9]\+\t' "$DN_TMP/history.out") notes"
else
  DN_HOST=127.0.0.1
  dn_tcp 10 HISTORY >"$DN_TMP/history.out" 2>&1
  rc=$?
  echo "  HISTORY over TCP                -> $(tail -n 1 "$DN_TMP/history.out")"
fi
n_hist=$(grep -c $'^[0-9]\+\t' "$DN_TMP/history.out")
((rc == 0 && n_hist == expected_notes)) && dn_pass "HISTORY returned the $expected_notes stored notes" ||
  dn_fail "HISTORY: status $rc, $n_hist notes, expected $expected_notes"

# Let the last packets (FIN/ACK) reach the capture, then stop tcpdump: SIGTERM makes it
# flush the file. Bounded: dn_stop KILLs after 5 s.
sleep 0.3
dn_stop "$TD_PID" TERM
dn_server_stop

# ---- the decode ----------------------------------------------------------------------------------
if [[ ! -s $OUT ]]; then
  dn_fail "no capture file written at $OUT"
  dn_finish
fi
echo
echo "capture saved: $OUT   ($(grep -Eo '[0-9]+ packets captured' "$DN_TMP/tcpdump.err" || echo "? packets"))"
echo
timeout 30 "$TCPDUMP" -r "$OUT" -n -tt -X 2>/dev/null >"$DN_TMP/dump.txt"

awk -v port="$PORT" -v hex="$HEX" -v facts="$DN_TMP/facts" '
function init_hex(   i, d) {
  d = "0123456789abcdef"
  for (i = 0; i < 16; i++) HEXV[substr(d, i + 1, 1)] = i
}
function byte(i) { return B[i] }
# payload bytes [from, to) as a readable string: \n \r \t \x01 escaped, UTF-8 passed through.
function text(from, to,   i, b, s) {
  s = ""
  for (i = from; i < to; i++) {
    b = B[i]
    if (b == 10) s = s "\\n"
    else if (b == 13) s = s "\\r"
    else if (b == 9) s = s "\\t"
    else if (b == 92) s = s "\\\\"
    else if (b < 32 || b == 127) s = s sprintf("\\x%02x", b)
    else s = s sprintf("%c", b)
  }
  return s
}
# the payload split at \n into L[1..n] (without the \n); returns n. stream: a last line
# without \n continues in the next TCP segment.
function lines(from, to, stream,   i, n, cur) {
  n = 0; cur = from
  for (i = from; i < to; i++) if (B[i] == 10) { L[++n] = text(cur, i); cur = i + 1 }
  if (cur < to) L[++n] = text(cur, to) (stream ? " (no \\n yet: continues in the next segment)" : "")
  return n
}
function say(line) { printf "%s\n", line }
function more(line) { printf "%22s%s\n", "", line }
function who(ip, p) { return (p == port) ? "server" : ip ":" p }
function flush_packet(   ihl, proto, total, sp, dp, off, from, to, n, i, f, dir, what, peer, key, k, nb) {
  if (!have) return
  have = 0
  ihl = (B[0] % 16) * 4
  proto = B[9]
  total = B[2] * 256 + B[3]
  if (total > nbytes) total = nbytes
  sp = B[ihl] * 256 + B[ihl + 1]
  dp = B[ihl + 2] * 256 + B[ihl + 3]
  np++
  rel = (t - t0) * 1000
  peer = (sp == port) ? dst_ip ":" dp : src_ip ":" sp
  dir = sprintf("%-15s -> %-15s", who(src_ip, sp), who(dst_ip, dp))
  head = sprintf("#%-3d %9.3f ms  %s %s  ", np, rel, (proto == 17) ? "UDP" : "TCP", dir)
  if (proto == 17) {
    from = ihl + 8; to = total; nb = to - from
    if (dp == port) {
      if (B[from] == 1) {
        n = lines(from + 1, to, 0)
        split(L[1], h, " ")
        say(head "NOTES, a marked datagram from the official client (" nb " bytes)")
        more("byte 0x01 marks it (no plain note can start with a control character);")
        more("header \"" L[1] "\": protocol " h[1] ", client id " h[2] ", floor " h[3] " (all below settled), first message " h[4])
        for (i = 2; i <= n; i++) more(sprintf("message %d: \"%s\"", h[4] + i - 2, L[i]))
        pending[peer] = np; kind[np] = "marked"; marked++
      } else {
        say(head "NOTE, a plain datagram (" nb " bytes): \"" text(from, to) "\"")
        more("one datagram = one note; one trailing \\n is dropped before it is checked")
        pending[peer] = np; plain++
      }
    } else {
      what = text(from, to); sub(/\\n$/, "", what)
      split(what, w, " ")
      q = (peer in pending) ? " (answers #" pending[peer] ")" : ""
      if (w[1] == "OK" && w[3] == "") {
        say(head "OK " w[2] q)
        more("stored as note seq " w[2] "; under --fsync always it is already on disk")
        ok++
      } else if (w[1] == "OK") {
        say(head "OK " w[2] " " w[3] " " w[4] (w[5] != "" ? " " w[5] " ..." : "") q)
        more("messages " w[2] ".." (w[2] + w[3] - 1) " stored as seqs " w[4] ".." (w[4] + w[3] - 1) \
             (w[5] != "" ? "; the ones whose bit is set in mask " w[5] " were refused" : ""))
        ok++
      } else if (w[1] == "WAIT") {
        say(head "WAIT " w[2] q)
        more("out of order: the client resends from message " w[2])
      } else if (w[1] == "ERR") {
        say(head "ERR" substr(what, 4) q)
        more("refused whole: nothing stored, no seq used")
        err++
      } else {
        say(head "\"" what "\"")
      }
      delete pending[peer]
    }
  } else if (proto == 6) {
    off = int(B[ihl + 12] / 16) * 4
    from = ihl + off; to = total; nb = to - from
    f = flags
    key = peer
    if (f == "S") {
      say(head "SYN            handshake 1/3: the client asks to connect")
      hs[key] = 1; syn++
    } else if (f == "S.") {
      say(head "SYN-ACK        handshake 2/3: the server accepts")
      hs[key] = 2; synack++
    } else if (f == "." && nb == 0 && hs[key] == 2 && dp == port) {
      say(head "ACK            handshake 3/3: connection open")
      hs[key] = 3; est++
    } else if (nb > 0) {
      n = lines(from, to, 1)
      if (dp == port) {
        say(head "DATA " nb " bytes, the request: " (n == 1 ? "\"" L[1] "\"" : n " lines"))
        for (i = 1; i <= n; i++) { if (n > 1) more("\"" L[i] "\""); if (L[i] ~ /^[Hh][Ii][Ss][Tt][Oo][Rr][Yy]/) hist_req++ }
        if (n == 1 && L[1] ~ /^[Hh][Ii][Ss][Tt][Oo][Rr][Yy]/) more("ask for every note; the reply streams back on this connection")
        if (n == 1 && L[1] ~ /^[Qq][Uu][Ii][Tt]/) more("ask the server to say BYE and close")
      } else {
        say(head "DATA " nb " bytes, the reply streams back (" n " line" (n == 1 ? "" : "s") ")")
        for (i = 1; i <= n; i++) {
          k = L[i]
          if (k ~ /^[0-9]+\\t/) reply_notes++
          if (k ~ /^END [0-9]+$/) end_seen++
          if (i > 12) continue
          if (k ~ /^[0-9]+\\t/) { gsub(/\\t/, " | ", k); more("note   " k) }
          else if (k ~ /^END /) more(k "      end of the HISTORY reply: it counts the note lines sent")
          else if (k == "BYE") more("BYE        the answer to QUIT; the server closes next")
          else if (k == "PONG") more("PONG       the answer to PING")
          else if (k ~ /^ERR/) more(k "   the command was not understood; the connection stays open")
          else more(k)
        }
        if (n > 12) more("... " n - 12 " more lines")
      }
      if (f ~ /F/) more("and FIN: this side has nothing more to send")
    } else if (f ~ /F/) {
      say(head "FIN            " (dp == port ? "the client" : "the server") " closes its side")
      fin++
    } else if (f ~ /R/) {
      say(head "RST            the connection is reset")
      more("a side closed while unread bytes were waiting for it (e.g. a reply it did not read)")
    } else {
      say(head "ACK            acknowledges bytes received (TCP bookkeeping, no data)")
    }
  }
  if (hex) for (i = 1; i <= nraw; i++) more("  " raw[i])
}
BEGIN { init_hex(); np = 0; t0 = -1 }
/^[0-9]+\.[0-9]+ IP6? / {
  flush_packet()
  t = $1 + 0; if (t0 < 0) t0 = t
  src = $3; dst = $5; sub(/:$/, "", dst)
  src_ip = src; sub(/\.[0-9]+$/, "", src_ip)
  dst_ip = dst; sub(/\.[0-9]+$/, "", dst_ip)
  flags = ""
  if (match($0, /Flags \[[^]]*\]/)) flags = substr($0, RSTART + 7, RLENGTH - 8)
  nbytes = 0; nraw = 0; have = 1
  next
}
/^[ \t]+0x[0-9a-f]+:/ {
  raw[++nraw] = $0; sub(/^[ \t]+/, "", raw[nraw])
  for (i = 2; i < NF; i++) {
    g = $i
    if (g !~ /^[0-9a-f]+$/) break
    for (j = 1; j < length(g); j += 2) B[nbytes++] = HEXV[substr(g, j, 1)] * 16 + HEXV[substr(g, j + 1, 1)]
  }
  next
}
END {
  flush_packet()
  printf "plain=%d marked=%d ok=%d err=%d syn=%d synack=%d est=%d hist_req=%d reply_notes=%d end=%d fin=%d packets=%d\n", \
    plain, marked, ok, err, syn, synack, est, hist_req, reply_notes, end_seen, fin, np > facts
}' "$DN_TMP/dump.txt"

cat <<'EOF'

How to read it: UDP carries notes, one reply datagram per datagram (OK = stored with that
seq, ERR = refused, nothing stored). TCP carries queries: a 3-packet handshake, the request
line, the reply streamed in as many segments as it needs, then FIN from each side. A note
line is SEQ | TIME (UTC) | ADDR (the sender as the server saw it) | TEXT.
EOF
echo

fact() { sed -E "s/.*\\b$1=([0-9]+).*/\\1/" "$DN_TMP/facts"; }
[[ -s $DN_TMP/facts ]] || { dn_fail "decode produced nothing"; dn_finish; }
(($(fact plain) >= 3 && $(fact ok) >= 2)) && dn_pass "on the wire: $(fact plain) plain note datagrams, $(fact ok) OK replies" ||
  dn_fail "on the wire: expected 3 plain notes and 2+ OK, saw $(fact plain) and $(fact ok)"
(($(fact err) >= 1)) && dn_pass "on the wire: the refused note and its ERR" || dn_fail "on the wire: no ERR reply seen"
if ((RAW == 0)); then
  (($(fact marked) >= 1)) && dn_pass "on the wire: $(fact marked) marked datagram(s) from dailynet send" ||
    dn_fail "on the wire: no marked datagram from dailynet send"
fi
(($(fact syn) >= 1 && $(fact synack) >= 1 && $(fact est) >= 1)) && dn_pass "on the wire: the TCP handshake (SYN, SYN-ACK, ACK)" ||
  dn_fail "on the wire: TCP handshake incomplete (syn=$(fact syn) synack=$(fact synack) ack=$(fact est))"
(($(fact hist_req) >= 1 && $(fact end) >= 1 && $(fact reply_notes) >= expected_notes)) &&
  dn_pass "on the wire: HISTORY, $(fact reply_notes) note lines and END" ||
  dn_fail "on the wire: HISTORY request/reply not seen whole (request=$(fact hist_req) notes=$(fact reply_notes) end=$(fact end))"
echo "pcap: $OUT"
dn_finish
