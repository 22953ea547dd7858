#!/usr/bin/env bash
# Makes a Docker daemon available: installs Debian's docker.io when dockerd is missing, starts dockerd in the
# background when `docker info` fails, and waits (polling, up to DOCKER_START_TIMEOUT s, default 60) until it
# answers. Idempotent; prints how long it took.
#   DOCKERD_LOG   daemon log (default /var/log/chatfn-dockerd.log)
#   DOCKERD_ARGS  extra dockerd arguments
set -euo pipefail

log() { printf '[docker-up %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
t0=$SECONDS
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/chatfn-dockerd.log}"
DOCKER_START_TIMEOUT="${DOCKER_START_TIMEOUT:-60}"
SUDO=""
[[ $(id -u) == 0 ]] || SUDO="sudo"

if docker info >/dev/null 2>&1; then
  log "docker daemon already running ($(docker info --format '{{.ServerVersion}}'))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "dockerd missing: installing Debian docker.io"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker.io >&2
fi
command -v docker >/dev/null 2>&1 || log "WARNING: no docker CLI on PATH"

# Debian's docker.io only starts dockerd through systemd, which this machine does not run: start it by hand.
# A stale pid file from a dead daemon makes dockerd refuse to start.
if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  $SUDO rm -f /var/run/docker.pid
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: $DOCKERD_LOG)"
  # shellcheck disable=SC2086
  $SUDO setsid dockerd ${DOCKERD_ARGS:-} >>"$DOCKERD_LOG" 2>&1 </dev/null &
  disown || true
else
  log "dockerd process exists, waiting for it to answer"
fi

deadline=$((SECONDS + DOCKER_START_TIMEOUT))
until docker info >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    tail -n 40 "$DOCKERD_LOG" >&2 || true
    log "ERROR: docker daemon did not answer within ${DOCKER_START_TIMEOUT}s (log above: $DOCKERD_LOG)"
    exit 1
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    tail -n 40 "$DOCKERD_LOG" >&2 || true
    log "ERROR: dockerd exited (log above: $DOCKERD_LOG)"
    exit 1
  fi
  sleep 0.2
done
log "docker $(docker info --format '{{.ServerVersion}}') ready (storage driver $(docker info --format '{{.Driver}}')) in $((SECONDS - t0))s"
