#!/usr/bin/env bash
# Starts a single-node KRaft Kafka (broker + controller) in the background and waits until it answers.
#
#   KAFKA_PORT             PLAINTEXT listener (default 9092)
#   KAFKA_CONTROLLER_PORT  CONTROLLER listener (default 9093)
#   KAFKA_HOST             address to listen on and advertise (default 127.0.0.1)
#   KAFKA_DATA_DIR         state dir: server.properties, logs/, kafka.log, kafka.pid (default: a new mktemp dir,
#                          removed by kafka-stop.sh; a given dir is kept and reused if already formatted:
#                          keep the same ports then, the controller endpoint is part of the formatted quorum)
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx512m"
#   KAFKA_JVM_OPTS         extra JVM options
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 60)
#
# stdout gets exactly three lines a caller can eval or parse:
#   KAFKA_PID=<pid>  KAFKA_DATA_DIR=<dir>  KAFKA_BROKERS=<host:port>
# Progress goes to stderr. Stop with: scripts/infra/kafka-stop.sh [<data dir>]   (or KAFKA_PORT=<port> kafka-stop.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/kafka-env.sh"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
t0=$(date +%s%N)

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Sends an ApiVersions v0 request (api_key 18, correlation id 7) and checks for a well-formed
# error-free answer: the broker's request path is up, not just the socket.
api_versions_ok() {
  local out
  out=$(
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf '\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x07\x00\x05probe' >&3
    timeout 3 head -c 10 <&3 | od -An -v -tx1 | tr -d ' \n'
  ) 2>/dev/null || return 1
  # size(4 bytes, any) + correlation id 00000007 + error code 0000
  [[ "${out:8:12}" == "000000070000" ]]
}

for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
  port_open "$KAFKA_HOST" "$p" && kafka_die "port $KAFKA_HOST:$p is already in use"
done

"$INFRA_DIR/kafka-fetch.sh"

owned=0
if [[ -z "${KAFKA_DATA_DIR:-}" ]]; then
  KAFKA_DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chatfn-kafka.XXXXXX")"
  owned=1
fi
mkdir -p "$KAFKA_DATA_DIR/logs"
KAFKA_DATA_DIR="$(cd "$KAFKA_DATA_DIR" && pwd)"
[[ $owned == 1 ]] && : >"$KAFKA_DATA_DIR/.chatfn-owned"   # kafka-stop.sh removes only dirs carrying this
ready=0
pid=
on_exit() {
  [[ $ready == 1 ]] && return
  # failed start: do not leave a half-started broker or our temp dir behind
  [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
  [[ -n "$pid" ]] && rm -f "$KAFKA_RUN_DIR/$KAFKA_PORT"
  if [[ $owned == 1 ]]; then
    cp "$KAFKA_DATA_DIR/kafka.log" "${TMPDIR:-/tmp}/chatfn-kafka-failed-$KAFKA_PORT.log" 2>/dev/null &&
      kafka_log "log kept at ${TMPDIR:-/tmp}/chatfn-kafka-failed-$KAFKA_PORT.log"
    rm -rf "$KAFKA_DATA_DIR"
  fi
}
trap on_exit EXIT
if [[ -f "$KAFKA_DATA_DIR/kafka.pid" ]] && kill -0 "$(cat "$KAFKA_DATA_DIR/kafka.pid")" 2>/dev/null; then
  kafka_die "a Kafka is already running from $KAFKA_DATA_DIR (pid $(cat "$KAFKA_DATA_DIR/kafka.pid"))"
fi

props="$KAFKA_DATA_DIR/server.properties"
sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@KAFKA_HOST@|$KAFKA_HOST|g" \
    -e "s|@KAFKA_LOG_DIR@|$KAFKA_DATA_DIR/logs|g" \
    "$KAFKA_DEPLOY_DIR/server.properties" >"$props"

# shellcheck disable=SC2206
jvm=($KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
     -Dlog4j2.configurationFile="$KAFKA_DEPLOY_DIR/log4j2.properties" $KAFKA_JVM_OPTS)

if [[ ! -f "$KAFKA_DATA_DIR/logs/meta.properties" ]]; then
  # Same format as `StorageTool random-uuid` (base64url of 16 random bytes, not starting with '-'),
  # without paying for a JVM start.
  cluster_id=-
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  if ! java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$KAFKA_DEPLOY_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*" \
        kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$props" \
        >"$KAFKA_DATA_DIR/format.log" 2>&1; then
    cat "$KAFKA_DATA_DIR/format.log" >&2
    kafka_die "storage format failed"
  fi
fi

log="$KAFKA_DATA_DIR/kafka.log"
# setsid: own session, so the broker outlives the caller's shell and is not hit by its terminal's signals.
setsid java "${jvm[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" >"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$KAFKA_DATA_DIR/kafka.pid"
mkdir -p "$KAFKA_RUN_DIR"
echo "$KAFKA_DATA_DIR" >"$KAFKA_RUN_DIR/$KAFKA_PORT"
kafka_log "started pid $pid, data dir $KAFKA_DATA_DIR, log $log"

deadline=$((SECONDS + KAFKA_START_TIMEOUT))
until grep -q 'Kafka Server started' "$log" 2>/dev/null && api_versions_ok "$KAFKA_HOST" "$KAFKA_PORT"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -n 60 "$log" >&2 || true
    kafka_die "Kafka (pid $pid) exited during startup; log above ($log)"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 60 "$log" >&2 || true
    kafka_die "Kafka not ready on $KAFKA_HOST:$KAFKA_PORT after ${KAFKA_START_TIMEOUT}s; log above ($log)"
  fi
  # poll interval, not a fixed wait: readiness is re-checked every 0.2 s
  sleep 0.2
done

ready=1
kafka_log "ready on $KAFKA_HOST:$KAFKA_PORT in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo "KAFKA_PID=$pid"
echo "KAFKA_DATA_DIR=$KAFKA_DATA_DIR"
echo "KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT"
