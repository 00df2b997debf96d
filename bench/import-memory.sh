#!/bin/sh
# Resident memory of a dry run of `telesante offers import` over a generated file (issue 8: a 1,000,000-line
# file under 300 MB). Prints the resident size every 30 s beside the import's own progress line, then the
# peak as GNU time reports it (maximum resident set size; Debian package `time`) and the time.
#   sh bench/import-memory.sh [lines=1000000] [file=/tmp/telesante-offers-<lines>.ndjson]
# The file is generated once (seed 1, about 1.4 kB a line) and kept for the next run.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
lines="${1:-1000000}"
file="${2:-/tmp/telesante-offers-$lines.ndjson}"
if [ ! -s "$file" ]; then
  echo "generating $lines offers into $file"
  "$here/bin/telesante" offers generate --count "$lines" --seed 1 --output "$file"
fi
log=$(mktemp)
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
/usr/bin/time -f '%M' -o "$log.peak" "$here/bin/telesante" offers import "$file" --dry-run >"$log" 2>&1 &
timer=$!
t0=$(date +%s)
while kill -0 "$timer" 2>/dev/null; do
  sleep 30
  # bin/telesante execs scripts/node.sh, which execs node: GNU time's only child is node.
  node=$(pgrep -P "$timer" | head -n 1 || true)
  rss=$(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$node/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - t0 )) s  rss ${rss} MB  $(tail -n 1 "$log" | sed 's/.*import: //')"
done
status=0
wait "$timer" || status=$?
tail -n 1 "$log"
echo "lines: $lines; exit $status; peak resident memory: $(( $(tail -n 1 "$log.peak") / 1024 )) MB; $(( $(date +%s) - t0 )) s"
rm -f "$log" "$log.peak"
