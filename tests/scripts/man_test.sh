#!/usr/bin/env bash
# man_test.sh — man/dailynetd.8 and man/dailynet.1:
#   - render without a single warning: `groff -man -ww -z` and `man --warnings -l` (each when
#     installed; when neither is, the rendering checks pass as skipped, and say so);
#   - carry the sections a reader looks for (NAME, SYNOPSIS, OPTIONS, EXIT STATUS, ...) and the
#     version the binaries print;
#   - mention every option (long and short) printed by `dailynetd --help`, `dailynet --help`
#     and each `dailynet COMMAND --help`, every command, every interactive command, the
#     backslash escape, the environment variables, and every exit status --help lists.
# Env: BIN_DIR (default bin). Ends with "N passed, N failed".
source "$(dirname "$0")/preamble.sh"
SERVER_PAGE=man/dailynetd.8
CLIENT_PAGE=man/dailynet.1
export LC_ALL=C.UTF-8 MANPAGER=cat PAGER=cat MANWIDTH=80

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dailynet-man-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for page in "$SERVER_PAGE" "$CLIENT_PAGE"; do
  if [[ -f $page ]]; then ok "$page exists"; else bad "$page exists"; fi
done
for b in dailynetd dailynet; do
  if [[ -x $BIN_DIR/$b ]]; then ok "$BIN_DIR/$b exists"; else bad "$BIN_DIR/$b exists (build with make)"; fi
done
[[ -f $SERVER_PAGE && -f $CLIENT_PAGE && -x $BIN_DIR/dailynetd && -x $BIN_DIR/dailynet ]] || finish

# ---- rendering ------------------------------------------------------------------------------
have_groff=""
have_man=""
command -v groff >/dev/null 2>&1 && have_groff=1
command -v man >/dev/null 2>&1 && have_man=1
for page in "$SERVER_PAGE" "$CLIENT_PAGE"; do
  if [[ -n $have_groff ]]; then
    if timeout 30 groff -man -ww -z "$page" 2>"$tmp/err"; then
      if [[ -s $tmp/err ]]; then bad "groff -man -ww -z $page: $(head -n 3 "$tmp/err" | tr '\n' ' ')"
      else ok "groff -man -ww -z $page: no warnings"; fi
    else
      bad "groff -man -ww -z $page failed: $(head -n 3 "$tmp/err" | tr '\n' ' ')"
    fi
  fi
  if [[ -n $have_man ]]; then
    if timeout 30 man --warnings -l "$page" >"$tmp/out" 2>"$tmp/err"; then
      if [[ -s $tmp/err ]]; then bad "man --warnings -l $page: $(head -n 3 "$tmp/err" | tr '\n' ' ')"
      elif [[ ! -s $tmp/out ]]; then bad "man -l $page printed nothing"
      else ok "man --warnings -l $page: no warnings"; fi
    else
      bad "man --warnings -l $page failed: $(head -n 3 "$tmp/err" | tr '\n' ' ')"
    fi
  fi
  if [[ -z $have_groff && -z $have_man ]]; then
    ok "SKIPPED rendering $page: neither groff nor man is installed (counted as passed)"
  fi
done

# The page as plain text, laid out as man shows it (headings at column 0, tags and text
# indented): groff with very long lines and no hyphenation, so that no option is split.
# Without groff, a rough rendering of the few macros the pages use (one output line per
# source line), enough for the checks below.
plain() {
  if [[ -n $have_groff ]]; then
    groff -man -Tutf8 -rLL=2000n -rHY=0 -P-c -P-b -P-u "$1" 2>/dev/null
  else
    awk '
      function unescape(t) {
        gsub(/\\-/, "-", t); gsub(/\\\(rs/, "\\", t); gsub(/\\e/, "\\", t)
        gsub(/\\\(em/, "--", t); gsub(/\\\(en/, "-", t); gsub(/\\f[BIRP]/, "", t)
        gsub(/\\&/, "", t); gsub(/\\:/, "", t); return t
      }
      # macro arguments: words, or "quoted strings"
      function args(t, join,   out, n, a, i, q) {
        out = ""; n = 0
        while (length(t) > 0) {
          sub(/^[ \t]+/, "", t)
          if (t == "") break
          if (substr(t, 1, 1) == "\"") {
            q = index(substr(t, 2), "\""); if (q == 0) q = length(t)
            a = substr(t, 2, q - 1); t = substr(t, q + 2)
          } else {
            q = match(t, /[ \t]/); if (q == 0) q = length(t) + 1
            a = substr(t, 1, q - 1); t = substr(t, q)
          }
          out = out (n++ && join ? " " : "") a
        }
        return out
      }
      function emit(t) { print (tag ? "       " : indent) unescape(t); tag = 0 }
      BEGIN { indent = "       " }
      /^\.\\"/ { next }
      /^\.SH/ { print unescape(args(substr($0, 4), 1)); indent = "       "; next }
      /^\.SS/ { print "   " unescape(args(substr($0, 4), 1)); next }
      /^\.TP/ { tag = 1; indent = "              "; next }
      /^\.(PP|LP|P)$/ { indent = "       "; next }
      /^\.(B|I|SM) / { emit(args(substr($0, 4), 1)); next }
      /^\.(BR|RB|BI|IB|IR|RI) / { emit(args(substr($0, 5), 0)); next }
      /^\./ { next }
      { emit($0) }
    ' "$1"
  fi
}
plain "$SERVER_PAGE" >"$tmp/server.txt"
plain "$CLIENT_PAGE" >"$tmp/client.txt"
# groff -Tutf8 may print \- as U+2212 on some set-ups: make it a hyphen again.
sed -i 's/\xe2\x88\x92/-/g; s/\xe2\x80\x90/-/g' "$tmp/server.txt" "$tmp/client.txt"

# has TEXTFILE WORD: WORD appears as a whole word (not part of a longer option)
has() { grep -qE -- "(^|[^A-Za-z0-9_-])$(sed 's/[][\.*^$?+(){}|/]/\\&/g' <<<"$2")([^A-Za-z0-9_-]|$)" "$1"; }
# section TEXTFILE NAME: the lines of section NAME (a heading at column 0) up to the next one
section() { awk -v name="$2" '/^[A-Z]/ { on = ($0 == name); next } on' "$1"; }

# ---- sections and version -------------------------------------------------------------------
for s in NAME SYNOPSIS DESCRIPTION OPTIONS FILES SIGNALS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
  if grep -qx "$s" "$tmp/server.txt"; then ok "$SERVER_PAGE has $s"; else bad "$SERVER_PAGE has no $s section"; fi
done
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "INTERACTIVE COMMANDS" FORMATS ENVIRONMENT \
  "EXIT STATUS" EXAMPLES "SEE ALSO"; do
  if grep -qx "$s" "$tmp/client.txt"; then ok "$CLIENT_PAGE has $s"; else bad "$CLIENT_PAGE has no $s section"; fi
done
if section "$tmp/client.txt" "SEE ALSO" | grep -q 'dailynetd(8)'; then ok "$CLIENT_PAGE: SEE ALSO dailynetd(8)"
else bad "$CLIENT_PAGE: SEE ALSO lacks dailynetd(8)"; fi
if section "$tmp/server.txt" "SEE ALSO" | grep -q 'dailynet(1)'; then ok "$SERVER_PAGE: SEE ALSO dailynet(1)"
else bad "$SERVER_PAGE: SEE ALSO lacks dailynet(1)"; fi
for pair in "dailynetd:$SERVER_PAGE" "dailynet:$CLIENT_PAGE"; do
  b=${pair%%:*}
  page=${pair#*:}
  v=$(timeout 10 "$BIN_DIR/$b" --version | awk '{print $2}')
  th=$(grep -m1 '^\.TH' "$page")
  # The package's name and version, as in .TH DAILYNETD 8 DATE "dailynet 0.1.0" ...
  if [[ -n $v && $th == *"\"dailynet $v\""* ]]; then ok "$page .TH names dailynet $v (as $b --version)"
  else bad "$page .TH ($th) does not name \"dailynet $v\" (from $b --version)"; fi
done

# ---- every option of --help -----------------------------------------------------------------
# options TEXT: the long options (--name) and short ones (-x) a help text shows.
options() {
  grep -oE -- '--[a-z][a-z0-9-]*' <<<"$1" | sort -u
  grep -oE -- '(^|[ ,(])-[a-zA-Z]([ ,]|$)' <<<"$1" | grep -oE -- '-[a-zA-Z]' | sort -u
}
check_options() {  # NAME HELP_TEXT PAGE_TEXT PAGE
  local name=$1 help=$2 text=$3 page=$4 opt missing="" n=0
  if [[ -z $help ]]; then
    bad "$name printed no help"
    return
  fi
  for opt in $(options "$help"); do
    n=$((n + 1))
    has "$text" "$opt" || missing+=" $opt"
  done
  if [[ -z $missing ]]; then ok "$page mentions all $n options of '$name'"
  else bad "$page lacks options of '$name':$missing"; fi
}
check_options "dailynetd --help" "$(timeout 10 "$BIN_DIR/dailynetd" --help)" "$tmp/server.txt" "$SERVER_PAGE"
check_options "dailynet --help" "$(timeout 10 "$BIN_DIR/dailynet" --help)" "$tmp/client.txt" "$CLIENT_PAGE"
commands="send history clients follow stats help"
for c in $commands; do
  check_options "dailynet $c --help" "$(timeout 10 "$BIN_DIR/dailynet" "$c" --help)" "$tmp/client.txt" "$CLIENT_PAGE"
done

# ---- commands, interactive commands, environment, exit status (client) -----------------------
section "$tmp/client.txt" COMMANDS >"$tmp/commands.txt"
missing=""
# the commands `dailynet --help` lists (lines "  NAME ..." under "Commands:")
listed=$(timeout 10 "$BIN_DIR/dailynet" --help | awk '/^Commands:/ {on=1; next} on && /^$/ {exit}
  on && /^  [a-z]/ {print $1}')
for c in $commands $listed; do grep -qE "^ +$c( |$)" "$tmp/commands.txt" || missing+=" $c"; done
if [[ -z $missing ]]; then ok "$CLIENT_PAGE COMMANDS describes $(echo $listed | tr ' ' ',')"
else bad "$CLIENT_PAGE COMMANDS lacks:$missing"; fi

section "$tmp/client.txt" "INTERACTIVE COMMANDS" >"$tmp/interactive.txt"
missing=""
for c in h help '?' r sync q quit /help /sync /quit /who /from /mine; do
  grep -qF -- "$c" "$tmp/interactive.txt" && has "$tmp/interactive.txt" "$c" || missing+=" $c"
done
if [[ -z $missing ]]; then ok "$CLIENT_PAGE INTERACTIVE COMMANDS lists h help ? r sync q quit and the / forms"
else bad "$CLIENT_PAGE INTERACTIVE COMMANDS lacks:$missing"; fi
if grep -qF '\q' "$tmp/interactive.txt" && grep -qF '\/who' "$tmp/interactive.txt"; then
  ok "$CLIENT_PAGE documents the backslash escape (\\q sends q)"
else
  bad "$CLIENT_PAGE does not document the backslash escape (\\q, \\/who)"
fi

section "$tmp/client.txt" ENVIRONMENT >"$tmp/env.txt"
missing=""
for v in DAILYNET_HOST DAILYNET_PORT PAGER NO_COLOR; do has "$tmp/env.txt" "$v" || missing+=" $v"; done
if [[ -z $missing ]]; then ok "$CLIENT_PAGE ENVIRONMENT: DAILYNET_HOST DAILYNET_PORT PAGER NO_COLOR"
else bad "$CLIENT_PAGE ENVIRONMENT lacks:$missing"; fi

section "$tmp/client.txt" FORMATS >"$tmp/formats.txt"
missing=""
for f in text tsv json; do grep -qE "^ +$f( |$)" "$tmp/formats.txt" || missing+=" $f"; done
if [[ -z $missing ]]; then ok "$CLIENT_PAGE FORMATS: text tsv json"
else bad "$CLIENT_PAGE FORMATS lacks:$missing"; fi

# Exit codes: dailynet --help lists "  N  reason" lines; dailynetd --help "Exit status: N ...; N ...".
exit_codes_client=$(timeout 10 "$BIN_DIR/dailynet" --help | awk '/^Exit status:/ {on=1; next} on && /^ +[0-9]+ / {print $1}')
exit_codes_server=$(timeout 10 "$BIN_DIR/dailynetd" --help | awk '/^Exit status:/ {on=1} on' |
  grep -oE '(^|[:;] *)[0-9]+ ' | grep -oE '[0-9]+')
for pair in "client:$CLIENT_PAGE" "server:$SERVER_PAGE"; do
  which=${pair%%:*}
  page=${pair#*:}
  codes=$exit_codes_client
  [[ $which == server ]] && codes=$exit_codes_server
  section "$tmp/$which.txt" "EXIT STATUS" >"$tmp/exit.txt"
  missing=""
  for code in $codes; do grep -qE "^ +$code( |$)" "$tmp/exit.txt" || missing+=" $code"; done
  if [[ -z $codes ]]; then bad "--help of the $which lists no exit status"
  elif [[ -z $missing ]]; then ok "$page EXIT STATUS lists $(echo $codes | tr ' ' ',') as --help does"
  else bad "$page EXIT STATUS lacks:$missing"; fi
done

finish
