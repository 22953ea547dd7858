#!/usr/bin/env bash
# Builds the local base image for function containers, ${CHATFN_BASE_IMAGE:-chatfn/node-base:20}, without any
# registry pull (Docker Hub is not reachable): a root filesystem assembled from this host and `docker import`ed.
#
# Contents: the host's node binary (/usr/local/bin/node) and npm CLI (/usr/local/lib/node_modules/npm, with
# /usr/local/bin/npm and npx), every shared library `ldd` lists for them plus the dynamic loader, the host CA bundle
# (/etc/ssl/certs/ca-certificates.crt: it includes this machine's egress interception CA), /etc/passwd and
# /etc/group with root and `app` (uid/gid 1000, home /home/app), /app owned by app, /tmp 1777, and a shell with
# basic utilities for npm lifecycle scripts: busybox from Debian's busybox-static (installed if missing), or dash
# and coreutils' env as a fallback.
#
# Idempotent: the image carries the label dev.chatfn.fingerprint = node version + npm version + this script's
# checksum; when the existing image has the same fingerprint nothing is rebuilt. CHATFN_BASE_IMAGE_FORCE=1 rebuilds.
# Networking for containers built from it: see scripts/infra/README.md.
set -euo pipefail

IMAGE="${CHATFN_BASE_IMAGE:-chatfn/node-base:20}"
log() { printf '[base-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
t0=$SECONDS

command -v docker >/dev/null || die "docker CLI not found (run scripts/infra/docker-up.sh)"
docker info >/dev/null 2>&1 || die "docker daemon not reachable (run scripts/infra/docker-up.sh)"

NODE_BIN="$(readlink -f "$(command -v node)")" || die "node not found on PATH"
NODE_VERSION="$("$NODE_BIN" -p process.version)"
# npm's package dir: the real path of the npm-cli.js that `npm` runs, two levels up
NPM_DIR=""
if command -v npm >/dev/null; then
  NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
fi
if [[ ! -f "$NPM_DIR/bin/npm-cli.js" ]]; then
  NPM_DIR="$(npm root -g 2>/dev/null)/npm"
fi
[[ -f "$NPM_DIR/bin/npm-cli.js" ]] || die "cannot find npm's package dir (tried $(command -v npm), npm root -g)"
NPM_VERSION="$("$NODE_BIN" -p "require('$NPM_DIR/package.json').version")"
SCRIPT_SUM="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
FINGERPRINT="node-$NODE_VERSION+npm-$NPM_VERSION+$SCRIPT_SUM"

# opt-in network check (needs the registry): npm install inside a container as user app, default bridge network
check_npm() {
  [[ "${CHATFN_BASE_IMAGE_CHECK_NPM:-0}" == 1 ]] || return 0
  docker run --rm --user app "$IMAGE" sh -c \
    'cd && mkdir -p probe && cd probe && npm init -y >/dev/null && npm install --no-fund is-number@7.0.0 >/dev/null && node -e "process.exit(require(\"is-number\")(5) ? 0 : 1)"' ||
    die "npm install inside $IMAGE failed (see scripts/infra/README.md, Networking)"
  log "npm install inside $IMAGE works"
}

old_id="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
if [[ "${CHATFN_BASE_IMAGE_FORCE:-0}" != 1 ]]; then
  current="$(docker image inspect -f '{{index .Config.Labels "dev.chatfn.fingerprint"}}' "$IMAGE" 2>/dev/null || true)"
  if [[ "$current" == "$FINGERPRINT" ]]; then
    log "$IMAGE is current ($FINGERPRINT)"
    check_npm
    exit 0
  fi
  [[ -n "$current" ]] && log "$IMAGE is stale ($current), rebuilding"
fi

# A shell for npm lifecycle scripts (`sh -c "..."`): prefer a static busybox (sh + coreutils-like applets).
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
  if [[ -x $b ]] && "$b" --list 2>/dev/null | grep -qx sh; then BUSYBOX=$b; break; fi
done
if [[ -z "$BUSYBOX" ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
  log "installing Debian busybox-static"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >&2; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >&2 || true
  fi
  [[ -x /bin/busybox ]] && BUSYBOX=/bin/busybox
fi

ROOT="$(mktemp -d "${TMPDIR:-/tmp}/chatfn-rootfs.XXXXXX")"
trap 'rm -rf "$ROOT"' EXIT
log "assembling rootfs in $ROOT ($FINGERPRINT)"

mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/local/lib/node_modules,usr/local/etc,lib,etc/ssl/certs,root,home/app,app,tmp,var/tmp,dev,proc,sys}
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"
chmod 700 "$ROOT/root"

# Copies a file to the same path inside the rootfs, following symlinks but keeping the link name too.
copy_path() {
  local src=$1
  local real
  real="$(readlink -f "$src")"
  mkdir -p "$ROOT$(dirname "$real")"
  cp -p "$real" "$ROOT$real"
  if [[ "$src" != "$real" ]]; then
    mkdir -p "$ROOT$(dirname "$src")"
    [[ -e "$ROOT$src" ]] || ln -s "$real" "$ROOT$src"
  fi
}
# Copies every shared library (and the loader) that ldd lists for a binary.
copy_libs() {
  local bin=$1 lib
  # (ldd fails for static binaries; grep finds nothing then)
  for lib in $( { ldd "$bin" 2>/dev/null || true; } | grep -oE '/[^ ]+' || true); do
    if [[ -e "$lib" ]]; then copy_path "$lib"; fi
  done
}

# Debian's merged /usr: /lib and /lib64 are links into /usr, keep the same layout so ldd paths resolve.
if [[ -L /lib ]]; then rmdir "$ROOT/lib"; ln -s usr/lib "$ROOT/lib"; mkdir -p "$ROOT/usr/lib"; fi
if [[ -L /lib64 ]]; then ln -s usr/lib64 "$ROOT/lib64"; mkdir -p "$ROOT/usr/lib64"; fi
if [[ -L /bin ]]; then rmdir "$ROOT/bin"; ln -s usr/bin "$ROOT/bin"; fi
if [[ -L /sbin ]]; then rmdir "$ROOT/sbin"; ln -s usr/sbin "$ROOT/sbin"; fi

# node
cp -p "$NODE_BIN" "$ROOT/usr/local/bin/node"
copy_libs "$NODE_BIN"

# npm (+ npx), run through small wrappers so they work whatever the shebang resolution
cp -a "$NPM_DIR" "$ROOT/usr/local/lib/node_modules/npm"
for tool in npm npx; do
  printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/%s-cli.js "$@"\n' "$tool" \
    >"$ROOT/usr/local/bin/$tool"
  chmod 755 "$ROOT/usr/local/bin/$tool"
done
# npm's global config ($PREFIX/etc/npmrc, prefix /usr/local): no network side trips during builds
cat >"$ROOT/usr/local/etc/npmrc" <<'NPMRC'
update-notifier=false
fund=false
audit=false
NPMRC

# shell + utilities
if [[ -n "$BUSYBOX" ]]; then
  log "shell: busybox ($BUSYBOX)"
  cp -p "$BUSYBOX" "$ROOT/usr/bin/busybox"
  copy_libs "$BUSYBOX"   # nothing for the static build
  # an applet link for every name busybox knows, unless the rootfs has that file already (node, npm...)
  "$BUSYBOX" --list-full | while read -r applet; do
    # merged /usr: put /bin/x and /sbin/x under /usr
    case "$applet" in
      linuxrc) continue ;;
      bin/* | sbin/*) applet="usr/$applet" ;;
    esac
    if [[ -e "$ROOT/$applet" || -L "$ROOT/$applet" ]]; then continue; fi
    mkdir -p "$ROOT/$(dirname "$applet")"
    ln -s /usr/bin/busybox "$ROOT/$applet"
  done
else
  log "shell: dash (no busybox available)"
  for b in "$(command -v dash)" "$(command -v env)"; do
    copy_path "$b"
    copy_libs "$b"
  done
  [[ -e "$ROOT/bin/sh" || -L "$ROOT/bin/sh" ]] || ln -s "$(readlink -f "$(command -v dash)")" "$ROOT/usr/bin/sh"
fi
[[ -e "$ROOT/usr/bin/sh" || -e "$ROOT/bin/sh" ]] || die "no /bin/sh in the rootfs"
[[ -e "$ROOT/usr/bin/env" ]] || die "no /usr/bin/env in the rootfs"

# TLS trust: the host bundle (includes the egress interception CA this machine's traffic goes through)
cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"

# users
cat >"$ROOT/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat >"$ROOT/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
chmod 644 "$ROOT/etc/passwd" "$ROOT/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
chown 1000:1000 "$ROOT/home/app" "$ROOT/app"

log "importing $(du -sh "$ROOT" | cut -f1) as $IMAGE"
tar -C "$ROOT" --numeric-owner -cf - . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change "LABEL dev.chatfn.fingerprint=$FINGERPRINT" \
  --change "LABEL dev.chatfn.node-version=$NODE_VERSION" \
  --change 'WORKDIR /app' \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null

# smoke test: node runs, npm runs, the shell runs, user app exists
out="$(docker run --rm --network none "$IMAGE" node -e 'console.log(process.version)')"
[[ "$out" == "$NODE_VERSION" ]] || die "node in $IMAGE printed '$out', expected $NODE_VERSION"
docker run --rm --network none --user app "$IMAGE" sh -c 'npm --version >/dev/null && id -u | grep -qx 1000' ||
  die "npm/sh/user check failed in $IMAGE"
log "built $IMAGE ($NODE_VERSION, npm $NPM_VERSION) in $((SECONDS - t0))s"

# drop the image this one replaced, if nothing else uses it
if [[ -n "$old_id" && "$old_id" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]]; then
  docker rmi "$old_id" >/dev/null 2>&1 || true
fi
check_npm
