#!/usr/bin/env bash
# Stops a Kafka started by kafka-start.sh, by PID, and removes its data dir if kafka-start.sh created it.
#   kafka-stop.sh [<data dir>]    data dir from the argument, else $KAFKA_DATA_DIR, else the one recorded for
#                                 $KAFKA_PORT (default 9092) by kafka-start.sh
#   KAFKA_KEEP_DATA=1             keep the data dir even if it is a temp dir
#   KAFKA_STOP_TIMEOUT            seconds to wait after SIGTERM before SIGKILL (default 30)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/kafka-env.sh"

KAFKA_PORT="${KAFKA_PORT:-9092}"
dir="${1:-${KAFKA_DATA_DIR:-}}"
if [[ -z "$dir" && -f "$KAFKA_RUN_DIR/$KAFKA_PORT" ]]; then
  dir="$(cat "$KAFKA_RUN_DIR/$KAFKA_PORT")"
fi
[[ -n "$dir" ]] || kafka_die "no data dir given and none recorded for port $KAFKA_PORT"

if [[ -f "$dir/kafka.pid" ]]; then
  pid="$(cat "$dir/kafka.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kafka_log "stopping pid $pid ($dir)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT:-30}))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        kafka_log "pid $pid still alive after SIGTERM; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  else
    kafka_log "pid $pid is not running"
  fi
  rm -f "$dir/kafka.pid"
else
  kafka_log "no pid file in $dir"
fi

# forget the port record if it points at this dir
for f in "$KAFKA_RUN_DIR"/*; do
  [[ -f "$f" && "$(cat "$f")" == "$dir" ]] && rm -f "$f"
done

if [[ -f "$dir/.chatfn-owned" && "${KAFKA_KEEP_DATA:-0}" != 1 ]]; then
  rm -rf "$dir"
  kafka_log "removed $dir"
fi
