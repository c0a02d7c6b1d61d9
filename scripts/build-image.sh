#!/usr/bin/env bash
# Build the tps-connector container image on this machine and smoke-test it.
#
#   bash scripts/build-image.sh
#
# Where no base image can be pulled, the base is made here: a Debian bookworm root file system
# from Debian's own mirror (debootstrap, the mirror apt already uses), imported with podman.
# The image is built with `podman build --isolation=chroot` and tried with buildah, since
# `podman run` needs cgroup and rlimit control that some machines do not give: the container
# starts `tps-connector serve` and answers /healthz, and `tps-connector demo --once` (both
# sandbox portals, a sync of each, Chromium included) exits 0 inside it. `buildah run` shares
# the host's network, so the smoke test listens on free loopback ports.
#
# Needs: debootstrap, podman, buildah (Debian packages), python3, and root (debootstrap).
# Environment: IMAGE (default localhost/tps-connector:latest), BASE_IMAGE (default
# localhost/debian-bookworm-minbase:latest; made when missing), MIRROR (default: apt's),
# CA_BUNDLE (a CA bundle for pip behind a TLS-intercepting proxy; default $PIP_CERT or
# $SSL_CERT_FILE when set).
# Not part of `make test`: the first run takes several minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/tps-connector:latest}
BASE_IMAGE=${BASE_IMAGE:-localhost/debian-bookworm-minbase:latest}

say() { printf '== %s\n' "$*"; }

apt_mirror() {
    # The first Debian mirror apt is configured with (deb822 or one-line format).
    local uri
    uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
        | grep -v security | head -n1 || true)
    if [ -z "$uri" ]; then
        uri=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            | awk '{print $2}' | grep -v security | head -n1 || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if ! podman image exists "$BASE_IMAGE"; then
    MIRROR=${MIRROR:-$(apt_mirror)}
    rootfs=$(mktemp -d /tmp/tpsc-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    say "debootstrap bookworm (minbase) from $MIRROR"
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/tmp/tpsc-debootstrap.log
    # The image's apt uses the same mirror.
    echo "deb $MIRROR bookworm main" >"$rootfs/etc/apt/sources.list"
    say "importing the root file system as $BASE_IMAGE"
    tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
else
    say "base image $BASE_IMAGE exists"
fi

# A TLS-intercepting proxy's CA (the one this machine trusts) reaches pip in the build as a
# secret, which no layer keeps.
ca_bundle=${CA_BUNDLE:-${PIP_CERT:-${SSL_CERT_FILE:-}}}
secret=()
if [ -n "$ca_bundle" ] && [ -s "$ca_bundle" ]; then
    secret=(--secret "id=ca-certificates,src=$ca_bundle")
fi

say "building $IMAGE"
podman build --isolation=chroot --format docker --build-arg "BASE=$BASE_IMAGE" \
    "${secret[@]}" -t "$IMAGE" "$ROOT"
podman image inspect "$IMAGE" --format \
    '== image {{.Id}}: {{.Size}} bytes, user {{.Config.User}}, cmd {{.Config.Cmd}}, healthcheck {{.Config.Healthcheck.Test}}'

say "smoke test"
container=$(buildah from "$IMAGE")
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    buildah rm "$container" >/dev/null 2>&1 || true
}
trap cleanup EXIT

port=$(free_port)
buildah run --isolation chroot --env "CONNECTOR_API__PORT=$port" "$container" -- \
    tps-connector serve >/tmp/tpsc-serve.log 2>&1 &
server=$!
healthy=""
for _ in $(seq 1 120); do
    if body=$(python3 -c "import urllib.request, sys; print(urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2).read().decode())" 2>/dev/null); then
        healthy=$body
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then break; fi
    sleep 0.5
done
if [ -z "$healthy" ]; then
    echo "serve did not answer /healthz; its output:" >&2
    cat /tmp/tpsc-serve.log >&2
    exit 1
fi
say "serve in the container: GET /healthz -> $healthy"
kill "$server"
wait "$server" 2>/dev/null || true
server=""

# A chroot, like Docker's default seccomp profile, refuses the user namespaces Chromium's own
# sandbox needs: the setting for such runtimes turns it off.
demo_port=$(free_port)
buildah run --isolation chroot --env "CONNECTOR_API__PORT=$demo_port" --env COLUMNS=120 \
    --env CONNECTOR_BROWSER__SANDBOX=false "$container" -- tps-connector demo --once | tail -n 25
say "tps-connector demo --once in the container: exit 0"
say "ok: $IMAGE"
