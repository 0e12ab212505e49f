#!/usr/bin/env bash
# completion_test.sh — scripts/dailynet.bash-completion: sources it in bash and checks
# COMPREPLY for typed lines (commands, each command's options, --format values, options
# before the command, operands after --), and that every long option `dailynet CMD --help`
# prints is offered for CMD. Runs once with the script alone and, when the bash-completion
# package is installed, once more on top of it (its _get_comp_words_by_ref path).
# Env: BIN_DIR (default bin). Ends with "N passed, N failed".
source "$(dirname "$0")/preamble.sh"
SCRIPT=scripts/dailynet.bash-completion
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

if [[ ! -f $SCRIPT ]]; then
  bad "$SCRIPT exists"
  echo "$passed passed, $failed failed"
  exit 1
fi

# Runs in a child bash: sources the script (after bash_completion when $1 is "full"), then for
# each line on stdin completes it as if TAB were pressed at its end and prints
# "LINE<TAB>sorted COMPREPLY, space-separated".
complete_lines() {
  timeout 60 bash --norc --noprofile -c '
    mode=$1 script=$2 bc=$3
    if [[ $mode == full ]]; then
      shopt -s extglob progcomp
      source "$bc" >/dev/null 2>&1 || { echo "cannot source $bc" >&2; exit 3; }
    fi
    source "$script" || exit 3
    spec=$(complete -p dailynet 2>/dev/null) || { echo "no completion for dailynet" >&2; exit 3; }
    fn=${spec#*-F }
    fn=${fn%% *}
    # Split like readline: blanks separate words; runs of = and : (in COMP_WORDBREAKS) are
    # words of their own.
    split_words() {
      local s=$1 w="" c i
      COMP_WORDS=()
      for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [[ $c == [[:blank:]] ]]; then
          [[ -n $w ]] && COMP_WORDS+=("$w")
          w=""
        elif [[ $c == [=:] ]]; then
          if [[ -n $w && ${w: -1} != [=:] ]]; then COMP_WORDS+=("$w"); w=""; fi
          w+=$c
        else
          if [[ -n $w && ${w: -1} == [=:] ]]; then COMP_WORDS+=("$w"); w=""; fi
          w+=$c
        fi
      done
      COMP_WORDS+=("$w")  # the word being completed, maybe empty
    }
    while IFS= read -r line; do
      COMP_LINE=$line
      COMP_POINT=${#line}
      split_words "$line"
      COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
      COMPREPLY=()
      "$fn" dailynet "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
      printf "%s\t%s\n" "$line" "$(printf "%s\n" "${COMPREPLY[@]}" | sed "/^$/d" | sort | tr "\n" " " | sed "s/ $//")"
    done
  ' complete_lines "$@"
}

sorted() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }

# expect_exact LINE WORDS: COMPREPLY is exactly these words (any order)
# expect_has LINE WORDS: COMPREPLY holds each of them
# expect_not LINE WORDS: COMPREPLY holds none of them
check_mode() {
  local mode=$1
  local cases=(
    "exact|dailynet |send history clients follow stats help"
    "exact|dailynet h|history help"
    "exact|dailynet --format |text tsv json"
    "exact|dailynet history --format |text tsv json"
    "exact|dailynet history --format j|json"
    "exact|dailynet --format=t|text tsv"
    "exact|dailynet --port 9527 --format json hist|history"
    "has|dailynet history --|--from --since --last --format --host --port --udp-port --tcp-port --timeout --verbose --help --version"
    "not|dailynet history --|--print-seq --window --no-pager"
    "exact|dailynet --port 9527 history --l|--last"
    "has|dailynet send --|--print-seq --window --host --port --timeout"
    "not|dailynet send --|--format --from --since --last --no-pager"
    "has|dailynet follow --host ::1 --|--from --since --format"
    "has|dailynet follow --host ::1 --|--last --until --grep --numeric"
    "not|dailynet follow --host ::1 --|--print-seq --hosts"
    "exact|dailynet history --since |1h 24h 7d today yesterday"
    "exact|dailynet follow --until y|yesterday"
    "exact|dailynet clients --h|--help --host --hosts"
    "has|dailynet --|--no-pager --print-seq --format --host"
    "exact|dailynet clients --f|--format"
    "exact|dailynet help |send history clients follow stats"
    "exact|dailynet help history |"
    "exact|dailynet send -- -|"
    "exact|dailynet send hello |"
  )
  local input="" c
  for c in "${cases[@]}"; do
    IFS='|' read -r _ line _ <<<"$c"
    input+="$line"$'\n'
  done
  local out
  if ! out=$(complete_lines "$mode" "$SCRIPT" "$BASH_COMPLETION" <<<"$input"); then
    bad "[$mode] the completion script runs"
    return
  fi
  local i=0 kind line want got
  local -a results
  mapfile -t results <<<"$out"
  for c in "${cases[@]}"; do
    IFS='|' read -r kind line want <<<"$c"
    got=${results[i]#*$'\t'}
    [[ ${results[i]} == *$'\t'* ]] || got=""
    i=$((i + 1))
    local desc="[$mode] '$line<TAB>'"
    case $kind in
      exact)
        if [[ $(sorted "$got") == "$(sorted "$want")" ]]; then ok "$desc -> ${want:-nothing}"
        else bad "$desc -> '$got', want '$want'"; fi
        ;;
      has)
        local w missing=""
        for w in $want; do [[ " $got " == *" $w "* ]] || missing+=" $w"; done
        if [[ -z $missing ]]; then ok "$desc offers $want"
        else bad "$desc lacks$missing (got '$got')"; fi
        ;;
      not)
        local w extra=""
        for w in $want; do [[ " $got " == *" $w "* ]] && extra+=" $w"; done
        if [[ -z $extra ]]; then ok "$desc does not offer $want"
        else bad "$desc offers$extra, which does not apply"; fi
        ;;
    esac
  done

  # Every long option a command's --help prints is offered for that command.
  local client="$BIN_DIR/dailynet" cmd
  if [[ -x $client ]]; then
    input=""
    for cmd in send history clients follow stats; do input+="dailynet $cmd --"$'\n'; done
    mapfile -t results < <(complete_lines "$mode" "$SCRIPT" "$BASH_COMPLETION" <<<"$input")
    i=0
    for cmd in send history clients follow stats; do
      got=${results[i]#*$'\t'}
      i=$((i + 1))
      local opt missing=""
      for opt in $(timeout 10 "$client" "$cmd" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
        [[ " $got " == *" $opt "* ]] || missing+=" $opt"
      done
      if [[ -z $missing ]]; then ok "[$mode] every option of 'dailynet $cmd --help' is completed"
      else bad "[$mode] 'dailynet $cmd --<TAB>' lacks$missing"; fi
    done
  else
    bad "$client exists (build with make)"
  fi
}

check_mode plain
if [[ -f $BASH_COMPLETION ]]; then
  check_mode full
else
  echo "note: $BASH_COMPLETION not installed; checked the script on its own only"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
