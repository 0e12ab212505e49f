#!/usr/bin/env bash
# install_test.sh — `make install` / `make uninstall` with DESTDIR and PREFIX:
#   - PREFIX defaults to /usr/local (make -n);
#   - `make install DESTDIR=$tmp PREFIX=/usr` puts both binaries in usr/bin (mode 755), the man
#     pages in usr/share/man/man8 and man1 and the completion in
#     usr/share/bash-completion/completions/dailynet (mode 644), identical to the sources;
#   - man finds the installed pages through MANPATH, bash loads the installed completion;
#   - the installed binaries run: --version, and a real note: the installed dailynetd on
#     --port 0 with a temporary --data, the installed dailynet sends a note and reads it back
#     with history; the server is stopped by its PID (SIGTERM, exit 0);
#   - `make uninstall` with the same DESTDIR and PREFIX removes every installed file.
# Env: BIN_DIR (default bin; build/san/bin means a SANITIZE=1 build). Loopback only, bounded.
# Ends with "N passed, N failed".
source "$(dirname "$0")/preamble.sh"
make_args=()
[[ $BIN_DIR == build/san/bin ]] && make_args+=(SANITIZE=1)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dailynet-install-XXXXXX")
root=$tmp/root
server_pid=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- default PREFIX -------------------------------------------------------------------------
if dry=$(timeout 60 make -s -n install "${make_args[@]}" DESTDIR=/nonexistent-destdir 2>&1) &&
  grep -q '/nonexistent-destdir/usr/local/bin/dailynetd' <<<"$dry"; then
  ok "PREFIX defaults to /usr/local"
else
  bad "make -n install does not default to /usr/local: $(grep -m1 dailynetd <<<"$dry")"
fi

# ---- install --------------------------------------------------------------------------------
if timeout 900 make -s install "${make_args[@]}" DESTDIR="$root" PREFIX=/usr >"$tmp/make.log" 2>&1; then
  ok "make install DESTDIR=\$tmp PREFIX=/usr"
else
  bad "make install failed: $(tail -n 5 "$tmp/make.log" | tr '\n' ' ')"
  finish
fi

# installed path | source | mode
files=(
  "usr/bin/dailynetd|$BIN_DIR/dailynetd|755"
  "usr/bin/dailynet|$BIN_DIR/dailynet|755"
  "usr/share/man/man8/dailynetd.8|man/dailynetd.8|644"
  "usr/share/man/man1/dailynet.1|man/dailynet.1|644"
  "usr/share/bash-completion/completions/dailynet|scripts/dailynet.bash-completion|644"
)
for f in "${files[@]}"; do
  IFS='|' read -r path src mode <<<"$f"
  if [[ ! -f $root/$path ]]; then
    bad "$path installed"
    continue
  fi
  got_mode=$(stat -c %a "$root/$path")
  if [[ $got_mode != "$mode" ]]; then bad "$path has mode $got_mode, want $mode"
  elif ! cmp -s "$root/$path" "$src"; then bad "$path differs from $src"
  else ok "$path installed, mode $mode, same as $src"; fi
done
extra=$(cd "$root" && find . -type f | sed 's|^\./||' | grep -vxF -e usr/bin/dailynetd -e usr/bin/dailynet \
  -e usr/share/man/man8/dailynetd.8 -e usr/share/man/man1/dailynet.1 \
  -e usr/share/bash-completion/completions/dailynet)
if [[ -z $extra ]]; then ok "nothing else installed"; else bad "unexpected files installed: $extra"; fi

if command -v man >/dev/null 2>&1; then
  for p in "8 dailynetd" "1 dailynet"; do
    set -- $p
    where=$(MANPATH=$root/usr/share/man timeout 30 man -w "$1" "$2" 2>/dev/null)
    if [[ $where == "$root/usr/share/man/man$1/$2.$1"* ]]; then ok "man -w $1 $2 finds the installed page"
    else bad "man -w $1 $2 with MANPATH=\$tmp/usr/share/man: '$where'"; fi
  done
else
  ok "SKIPPED man -w: man is not installed (counted as passed)"
fi

if timeout 30 bash --norc --noprofile -c 'source "$1" && complete -p dailynet' _ \
  "$root/usr/share/bash-completion/completions/dailynet" >"$tmp/complete.out" 2>&1 &&
  grep -q -- '-F _dailynet dailynet' "$tmp/complete.out"; then
  ok "the installed completion registers for dailynet"
else
  bad "the installed completion: $(head -n 2 "$tmp/complete.out")"
fi

# ---- the installed binaries run --------------------------------------------------------------
daemon=$root/usr/bin/dailynetd
client=$root/usr/bin/dailynet
for b in dailynetd dailynet; do
  v=$(timeout 10 "$root/usr/bin/$b" --version 2>&1)
  if [[ $v =~ ^$b\ [0-9]+\.[0-9]+\.[0-9]+$ ]]; then ok "installed $b --version: $v"
  else bad "installed $b --version printed '$v'"; fi
done

"$daemon" --host 127.0.0.1 --port 0 --data "$tmp/data" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
ready=""
for _ in $(seq 1 200); do  # at most 10 s
  if grep -q '^dailynetd ready ' "$tmp/server.out" 2>/dev/null; then
    ready=$(grep -m1 '^dailynetd ready ' "$tmp/server.out")
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
done
udp_port=$(sed -nE 's/.* udp=127\.0\.0\.1:([0-9]+)( .*|$)/\1/p' <<<"$ready")
tcp_port=$(sed -nE 's/.* tcp=127\.0\.0\.1:([0-9]+)( .*|$)/\1/p' <<<"$ready")
if [[ -n $udp_port && -n $tcp_port ]]; then
  ok "installed dailynetd started: $ready"
else
  bad "installed dailynetd did not start: $(head -c 300 "$tmp/server.out" "$tmp/server.err" | tr '\n' ' ')"
  finish
fi

note="installed note $$ $RANDOM"
if timeout 30 "$client" send --host 127.0.0.1 --udp-port "$udp_port" --tcp-port "$tcp_port" \
  --print-seq "$note" >"$tmp/send.out" 2>"$tmp/send.err"; then
  ok "installed dailynet sent a note: $(cat "$tmp/send.out")"
else
  bad "installed dailynet send failed: $(cat "$tmp/send.err")"
fi
history=$(timeout 30 "$client" history --host 127.0.0.1 --udp-port "$udp_port" --tcp-port "$tcp_port" \
  --format tsv 2>"$tmp/history.err")
if [[ $(cut -f4 <<<"$history") == "$note" && $(cut -f1 <<<"$history") == 1 &&
  $(cut -f3 <<<"$history") == 127.0.0.1:* ]]; then
  ok "installed dailynet history reads it back: $history"
else
  bad "history: '$history' $(cat "$tmp/history.err")"
fi
if grep -qF "$note" "$tmp/data/notes.log" 2>/dev/null; then ok "the note is in --data/notes.log"
else bad "the note is not in $tmp/data/notes.log"; fi

kill -TERM "$server_pid"
rc=""
for _ in $(seq 1 100); do  # at most 5 s
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid"
    rc=$?
    break
  fi
  sleep 0.05
done
if [[ $rc == 0 ]]; then
  ok "installed dailynetd stopped by PID with SIGTERM, exit 0"
  server_pid=""
else
  bad "installed dailynetd after SIGTERM: ${rc:-still running}"
fi

# ---- uninstall ------------------------------------------------------------------------------
if timeout 300 make -s uninstall "${make_args[@]}" DESTDIR="$root" PREFIX=/usr >"$tmp/make.log" 2>&1; then
  ok "make uninstall DESTDIR=\$tmp PREFIX=/usr"
else
  bad "make uninstall failed: $(tail -n 5 "$tmp/make.log" | tr '\n' ' ')"
fi
left=$(cd "$root" && find . -type f | sed 's|^\./||')
if [[ -z $left ]]; then ok "make uninstall removed every installed file"
else bad "left after make uninstall: $left"; fi

finish
