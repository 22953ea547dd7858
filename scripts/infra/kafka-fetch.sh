#!/usr/bin/env bash
# Puts Apache Kafka's jars (deploy/kafka/pom.xml) into ${CHATFN_CACHE_DIR:-~/.cache/chatfn}/kafka-4.3.1/libs
# from Maven Central. A no-op when the cache is already complete for the current pom.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/kafka-env.sh"

kafka_libs_ready && exit 0

command -v java >/dev/null || kafka_die "java not found (Debian: apt-get install openjdk-17-jre-headless)"
command -v mvn >/dev/null || kafka_die "mvn not found (Debian: apt-get install maven)"

mkdir -p "$KAFKA_HOME_DIR"
# Serialise concurrent fetches (two jest projects, a developer shell and CI...).
exec 9>"$KAFKA_HOME_DIR/.fetch.lock"
flock 9
kafka_libs_ready && exit 0

start=$SECONDS
tmp="$KAFKA_HOME_DIR/libs.tmp.$$"
rm -rf "$tmp"
kafka_log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
if ! mvn -q -B -f "$KAFKA_DEPLOY_DIR/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -DincludeScope=runtime >&2; then
  rm -rf "$tmp"
  kafka_die "mvn dependency:copy-dependencies failed"
fi
ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || kafka_die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"
kafka_pom_sum >"$tmp/.complete"
rm -rf "$KAFKA_LIBS"
mv "$tmp" "$KAFKA_LIBS"
kafka_log "fetched $(ls "$KAFKA_LIBS" | wc -l) jars ($(du -sh "$KAFKA_LIBS" | cut -f1)) in $((SECONDS - start))s"
