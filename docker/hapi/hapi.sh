#!/bin/sh
# Starts, stops and reports on the development HAPI FHIR server built from docker/hapi (a Maven project).
#   sh docker/hapi/hapi.sh start|stop|status|build|analyze
# Environment: HAPI_PORT (8080), HAPI_DB_NAME (hapi), PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres),
# HAPI_START_TIMEOUT seconds (300), HAPI_JAVA_OPTS (-Xmx2g).
# The server runs detached (its own session, stdin from /dev/null, output to its log, no descriptor of the
# caller): it outlives the command or test that started it; `stop` ends it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
state="$root/.hapi"
jar="$here/target/telesante-hapi.jar"
port="${HAPI_PORT:-8080}"
# One pid file and log per port: a second server of the same checkout on another port (CI's, a test's)
# never overwrites the first one's pid, which `stop` would then miss.
if [ "$port" = 8080 ]; then suffix=""; else suffix="-$port"; fi
pidfile="$state/hapi$suffix.pid"
log="$state/hapi$suffix.log"
db="${HAPI_DB_NAME:-hapi}"
pghost="${PGHOST:-127.0.0.1}"
pgport="${PGPORT:-5432}"
pguser="${PGUSER:-postgres}"
base="http://127.0.0.1:$port/fhir"

say() { echo "hapi: $*"; }
die() { echo "hapi: $*" >&2; exit 1; }

running_pid() {
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

answers() { curl -sf -o /dev/null --max-time 5 "$base/metadata"; }

# Rebuild when the jar is missing or older than any source file of the Maven project.
build() {
  if [ -f "$jar" ] && [ -z "$(find "$here/pom.xml" "$here/src" -newer "$jar" -type f 2>/dev/null | head -n 1)" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to build the HAPI server: apt-get install maven"
  say "building the HAPI FHIR JPA server (Maven; the first build downloads HAPI's libraries)"
  mvn -B -q -f "$here/pom.xml" package -DskipTests || die "the Maven build failed"
}

ensure_database() {
  command -v psql >/dev/null || die "psql is needed to prepare the database"
  psql -h "$pghost" -p "$pgport" -U "$pguser" -d postgres -Atc 'select 1' >/dev/null 2>&1 \
    || die "PostgreSQL does not answer at $pghost:$pgport as $pguser (start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)"
  exists=$(psql -h "$pghost" -p "$pgport" -U "$pguser" -d postgres -Atc "select 1 from pg_database where datname = '$db'")
  if [ "$exists" != "1" ]; then
    psql -h "$pghost" -p "$pgport" -U "$pguser" -d postgres -qc "create database \"$db\"" || die "could not create database $db"
    say "created database $db"
  fi
}

psql_db() { psql -h "$pghost" -p "$pgport" -U "$pguser" -d "$db" "$@"; }

# PostgreSQL plans HAPI's searches from table statistics, which autovacuum keeps up to date. Where it
# is off (this repository's CI machines run PostgreSQL so), statistics stay those of an empty database
# and searches over a large one pick plans thousands of times too slow: refresh them after a bulk load.
analyze() {
  ensure_database
  t0=$(date +%s)
  psql_db -qc 'ANALYZE' || die "ANALYZE failed on database $db"
  say "statistics of database $db refreshed (ANALYZE) in $(( $(date +%s) - t0 )) s"
}

warn_without_autovacuum() {
  if [ "$(psql_db -Atc 'show autovacuum' 2>/dev/null)" = "off" ]; then
    say "warning: PostgreSQL runs with autovacuum off: after loading much data, run 'npm run hapi:analyze' (sh docker/hapi/hapi.sh analyze) or searches will plan badly"
  fi
}

# Becomes a command (call it with &) that has no descriptor of the caller but 0-2 (which the caller redirects).
# A descriptor kept open is held as long as the server runs: the start lock (fd 9) kept every other start
# waiting for ever; a caller's pipe kept its reader waiting for an end of file that never came. dash names
# no descriptor above 9, so bash closes them where /proc lists them; setsid keeps the server out of the
# caller's process group (a Ctrl-C on `npm test` does not kill it under the other test files).
detached() {
  if [ -d /proc/self/fd ] && command -v bash >/dev/null; then
    set -- bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done; exec "$@"' hapi "$@"
  else
    exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&-
  fi
  if command -v setsid >/dev/null; then set -- setsid "$@"; fi
  exec "$@"
}

start() {
  if pid=$(running_pid); then
    if answers; then say "already running (pid $pid) at $base"; return 0; fi
    # Started by an earlier call that did not wait for it to answer (killed, timed out): wait for it.
    say "already starting (pid $pid); waiting for $base"
    wait_for_answer "$(date +%s)"
    return 0
  fi
  if answers; then
    say "a FHIR server already answers at $base (not started by this script): using it"
    return 0
  fi
  mkdir -p "$state"
  build
  ensure_database
  t0=$(date +%s)
  # shellcheck disable=SC2086
  detached java ${HAPI_JAVA_OPTS:--Xmx2g} -jar "$jar" \
    --server.port="$port" \
    --spring.datasource.url="jdbc:postgresql://$pghost:$pgport/$db" \
    --spring.datasource.username="$pguser" \
    </dev/null >"$log" 2>&1 9>&- &
  echo $! >"$pidfile"
  wait_for_answer "$t0"
}

# HAPI builds its validator's context at the first $validate. One CI run saw every $validate answer
# "unknown or unrecognized resource name" for the whole run, cause unknown; one suspect is a context
# first built while test files were writing conformance resources. So the first one is asked here, on a
# quiet server, before the start returns (its answer is not judged: a failure only costs the warm-up).
warm_validator() {
  curl -s -o /dev/null --max-time 120 -X POST -H 'content-type: application/fhir+json' \
    --data '{"resourceType":"Patient","gender":"unknown"}' "$base/Patient/\$validate" || true
}

wait_for_answer() {
  t0=$1
  timeout="${HAPI_START_TIMEOUT:-300}"
  while :; do
    if answers; then
      warm_validator
      say "started in $(( $(date +%s) - t0 )) s at $base (pid $(cat "$pidfile"), log $log)"
      warn_without_autovacuum
      return 0
    fi
    if ! running_pid >/dev/null; then
      tail -n 30 "$log" >&2 || true
      die "the server stopped during start-up; see $log"
    fi
    if [ $(( $(date +%s) - t0 )) -ge "$timeout" ]; then
      die "no answer from $base/metadata after $timeout s; see $log"
    fi
    sleep 2
  done
}

stop() {
  if pid=$(running_pid); then
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$pidfile"
    say "stopped"
  else
    rm -f "$pidfile"
    say "not running"
  fi
}

status() {
  if pid=$(running_pid) && answers; then say "running (pid $pid) at $base"; else say "not running"; return 1; fi
}

# Test files run in parallel and may all ask for a server at once: one start at a time.
locked_start() {
  mkdir -p "$state"
  if command -v flock >/dev/null; then
    exec 9>"$state/start.lock"
    flock 9
  fi
  start
}

case "${1:-}" in
  start) locked_start ;;
  stop) stop ;;
  status) status ;;
  build) build ;;
  analyze) analyze ;;
  *) die "usage: hapi.sh start|stop|status|build|analyze" ;;
esac
