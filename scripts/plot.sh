#!/usr/bin/env bash
# plot.sh — draws the benchmark's raw results (scripts/bench.sh --results FILE) as SVG plots
# with gnuplot (Debian's gnuplot-nox; needed for plots only, never by `make test`).
#
#   scripts/plot.sh RESULTS.tsv [OUTDIR]      (OUTDIR defaults to plots/, beside BENCHMARKS.md)
#
# Input: one measurement per line, "rep <TAB> row <TAB> metric <TAB> value" (row ids as in
# bench.sh; the row "run" metric "n" is N). Every figure is the median over the repetitions.
# Output, each drawn only when its rows are present:
#   intake.svg   stored notes/s and loss % against the offered rate (what the sender achieved),
#                for dailynetd, the reference receiver and rsyslog (default, tuned)
#   cpu.svg      server CPU µs per stored note, per system, at full speed
#   latency.svg  UDP acknowledgement latency p50 and p99 per row (log scale)
#   scale.svg    start-up, RSS and query times against the store size N (rows scale_N)
# Exit status: 0 done, 1 no usable input or gnuplot missing, 2 usage.
set -u

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; '') usage >&2; exit 2 ;; esac
IN="$1"
OUT="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/plots}"
[ -r "$IN" ] || { echo "plot.sh: cannot read $IN" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot missing: apt-get install gnuplot-nox" >&2; exit 1; }
mkdir -p "$OUT" || exit 1
TMP="$(mktemp -d /tmp/dailynet-plot.XXXXXX)" || exit 1
trap 'rm -rf "$TMP"' EXIT

# medians: "row metric median" for every (row, metric) of the input.
awk -F'\t' 'NF == 4 { k = $2 "\t" $3; n[k]++; v[k, n[k]] = $4 + 0 }
END {
  for (k in n) {
    m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, i];
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
    printf "%s\t%s\n", k, (m % 2) ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
  }
}' "$IN" | sort >"$TMP/med.tsv"
med() { awk -F'\t' -v r="$1" -v m="$2" '$1 == r && $2 == m { print $3; exit }' "$TMP/med.tsv"; }
has() { [ -n "$(med "$1" "$2")" ]; }

N="$(med run n)"
if [ -z "$N" ]; then  # older results: the largest count any intake row stored
  N="$(awk -F'\t' '$2 == "recv" && $3 > n { n = $3 } END { print n + 0 }' "$TMP/med.tsv")"
fi
[ "${N:-0}" -gt 0 ] || { echo "plot.sh: no intake rows in $IN" >&2; exit 1; }

STYLE="set terminal svg size 820,460 dynamic enhanced font 'Helvetica,12' background '#ffffff'
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key top left Left reverse noautotitle"
made=()

# --- intake: one series per system; x = offered (achieved) rate, full speed included ------
series() {  # series FILE ROW...: "achieved stored_rate loss%" per present row, sorted by x
  local f="$1" r; shift
  : >"$f"
  for r; do
    has "$r" rate || continue
    printf '%s %s %s\n' "$(med "$r" achieved)" "$(med "$r" rate)" \
      "$(awk -v n="$N" -v s="$(med "$r" recv)" 'BEGIN { printf "%.3f", 100 * (n - s) / n }')" >>"$f"
  done
  sort -n -o "$f" "$f"
}
series "$TMP/dn.dat" dn_50000 dn_100000 dn_200000 dn_everysec
series "$TMP/ref.dat" ref_100000 ref_200000 ref
series "$TMP/rsd.dat" rs_default_50000 rs_default_100000 rs_default
series "$TMP/rst.dat" rs_tuned_50000 rs_tuned_100000 rs_tuned
series "$TMP/never.dat" dn_never
series "$TMP/nogso.dat" dn_never_nogso
if [ -s "$TMP/dn.dat" ] || [ -s "$TMP/ref.dat" ]; then
  plots=""
  for s in "dn:dailynetd --fsync everysec:#1f77b4:7" "ref:reference receiver:#2ca02c:5" \
           "rsd:rsyslog default:#d62728:9" "rst:rsyslog tuned:#ff7f0e:11" \
           "never:dailynetd --fsync never:#17becf:15" "nogso:dailynetd never, GSO off:#9467bd:13"; do
    IFS=: read -r f t c p <<<"$s"
    [ -s "$TMP/$f.dat" ] || continue
    plots="$plots${plots:+, }'$TMP/$f.dat' using (\$1/1000):COLX with linespoints lw 2 pt $p ps 1.2 lc rgb '$c' title '$t'"
  done
  rate_plots="${plots//COLX/(\$2/1000)}"
  loss_plots="${plots//COLX/3}"
  gnuplot <<EOF
$STYLE
set output '$OUT/intake.svg'
set multiplot layout 1,2 title "UDP intake, one sender, N = $N notes (medians; the rightmost point of each line is full speed)"
set xlabel 'offered (sent) rate, k notes/s'
set ylabel 'stored, k notes/s'
set yrange [0:*]
set xrange [0:*]
plot $rate_plots
set ylabel 'lost, % of N'
set key top left
plot $loss_plots
unset multiplot
EOF
  made+=(intake.svg)
fi

# --- cpu: µs per stored note at full speed, one bar per system --------------------------
: >"$TMP/cpu.dat"
for s in "ref:reference" "dn_never:dailynetd never" "dn_never_nogso:never, GSO off" \
         "dn_everysec:dailynetd everysec" "dn_always:dailynetd always" \
         "rs_default:rsyslog default" "rs_tuned:rsyslog tuned" \
         "send_never:dailynet send, never" "send_always:dailynet send, always"; do
  IFS=: read -r r t <<<"$s"
  has "$r" cpu && printf '"%s" %s\n' "$t" "$(med "$r" cpu)" >>"$TMP/cpu.dat"
done
if [ -s "$TMP/cpu.dat" ]; then
  gnuplot <<EOF
$STYLE
set output '$OUT/cpu.svg'
set title "Server CPU per stored note at full speed (utime + stime / notes stored; medians)"
set ylabel 'CPU µs per note'
set yrange [0:*]
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -30
plot '$TMP/cpu.dat' using 0:2:xtic(1) with boxes lc rgb '#1f77b4', \
     '' using 0:2:(sprintf('%.2f', \$2)) with labels offset 0,0.7
EOF
  made+=(cpu.svg)
fi

# --- latency: ack p50 / p99 per row ---------------------------------------------------------
: >"$TMP/lat.dat"
for s in "ref_100000:reference 100k/s" "ref_200000:reference 200k/s" "dn_50000:dailynetd 50k/s" \
         "dn_100000:dailynetd 100k/s" "dn_200000:dailynetd 200k/s" \
         "t5:100k/s, 8 downloads" "t5copy:100k/s, 8 copying" "t6:100k/s, 1,000 conns"; do
  IFS=: read -r r t <<<"$s"
  has "$r" p99 || continue
  p50="$(med "$r" p50)"
  printf '"%s" %s %s\n' "$t" "${p50:-NaN}" "$(med "$r" p99)" >>"$TMP/lat.dat"
done
if [ -s "$TMP/lat.dat" ]; then
  gnuplot <<EOF
$STYLE
set output '$OUT/latency.svg'
set title "UDP acknowledgement latency (medians over runs; log scale)"
set ylabel 'µs'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set format y '10^{%L}'
set yrange [*:*]
set offsets 0, 0, graph 0.35, 0
set key top left horizontal
plot '$TMP/lat.dat' using 2:xtic(1) title 'p50' lc rgb '#2ca02c', '' using 3 title 'p99' lc rgb '#d62728', \
     10000 with lines dt 2 lw 2 lc rgb '#555555' title 'p99 target under load (10 ms)'
EOF
  made+=(latency.svg)
fi

# --- scale: rows scale_N (metrics ready_ms, rss_kib, last100_ms, since_ms) -----------------
awk -F'\t' '$1 ~ /^scale_[0-9]+$/ { n = substr($1, 7); v[n, $2] = $3; seen[n] = 1 }
END { for (n in seen) printf "%s %s %s %s %s\n", n, (n SUBSEP "ready_ms") in v ? v[n, "ready_ms"] : "NaN",
        (n SUBSEP "rss_kib") in v ? v[n, "rss_kib"] / 1024 : "NaN",
        (n SUBSEP "last100_ms") in v ? v[n, "last100_ms"] : "NaN",
        (n SUBSEP "since_ms") in v ? v[n, "since_ms"] : "NaN" }' "$TMP/med.tsv" | sort -n >"$TMP/scale.dat"
if [ -s "$TMP/scale.dat" ]; then
  gnuplot <<EOF
$STYLE
set output '$OUT/scale.svg'
set title "Cost against the store size N (medians; log-log)"
set xlabel 'notes in the store'
set logscale xy
set format x '10^{%L}'
set key top left
plot '$TMP/scale.dat' using 1:2 with linespoints lw 2 pt 7 title 'start-up, ms', \
     '' using 1:3 with linespoints lw 2 pt 5 title 'RSS after start, MiB', \
     '' using 1:4 with linespoints lw 2 pt 9 title 'HISTORY LAST 100, ms', \
     '' using 1:5 with linespoints lw 2 pt 11 title 'HISTORY SINCE a recent time, ms'
EOF
  made+=(scale.svg)
fi

[ "${#made[@]}" -gt 0 ] || { echo "plot.sh: nothing to draw in $IN" >&2; exit 1; }
echo "plot.sh: wrote ${made[*]} in $OUT"
