# shellcheck shell=bash
# Common settings for the Kafka harness; sourced by kafka-fetch.sh, kafka-start.sh and kafka-stop.sh.
KAFKA_VERSION=4.3.1
INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_DIR/../.." && pwd)"
KAFKA_DEPLOY_DIR="$REPO_ROOT/deploy/kafka"
CHATFN_CACHE_DIR="${CHATFN_CACHE_DIR:-$HOME/.cache/chatfn}"
KAFKA_HOME_DIR="$CHATFN_CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME_DIR/libs"
# marker written after a complete copy; holds the pom's checksum so a changed pom refetches
KAFKA_LIBS_MARKER="$KAFKA_LIBS/.complete"
# one file per port: the data dir of the broker started on it (lets kafka-stop.sh find it)
KAFKA_RUN_DIR="$KAFKA_HOME_DIR/run"

kafka_log() { printf '[kafka %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
kafka_die() { kafka_log "ERROR: $*"; exit 1; }

kafka_pom_sum() { sha256sum "$KAFKA_DEPLOY_DIR/pom.xml" | cut -d' ' -f1; }

kafka_libs_ready() {
  [[ -f "$KAFKA_LIBS_MARKER" ]] && [[ "$(cat "$KAFKA_LIBS_MARKER")" == "$(kafka_pom_sum)" ]]
}
