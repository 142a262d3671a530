#!/usr/bin/env bash
# Build the intakeguard container image with podman, on a machine without a Docker engine
# or a reachable image registry.
#
# Usage: .ci/container.sh [IMAGE]   (default IMAGE: localhost/intakeguard:dev)
#
# The Dockerfile is written for the official Python image. When no image of that name is
# in podman's storage, this script makes a stand-in of the same Debian release and Python
# line with debootstrap (Debian's python3 there, shaped like the official image where the
# Dockerfile relies on it) and keeps it: later runs reuse it and only rebuild the project
# image. Nothing is ever pulled from or pushed to a registry. Needs root and apt-get for
# the first run (podman, buildah, runc and debootstrap are installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

image="${1:-localhost/intakeguard:dev}"

# The base image the Dockerfile names (ARG BASE_IMAGE=python:3.11-slim-bookworm).
base_short="$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile | head -n 1)"
if [[ ! "$base_short" =~ ^python:([0-9]+\.[0-9]+)-slim-([a-z]+)$ ]]; then
    echo "container: cannot read ARG BASE_IMAGE=python:X.Y-slim-SUITE from Dockerfile" >&2
    exit 78
fi
python_line="${BASH_REMATCH[1]}"
suite="${BASH_REMATCH[2]}"
# podman resolves the Dockerfile's short name to a local image under localhost/ too: the
# stand-in's name says it was made here.
base="localhost/$base_short"

log() { echo "container: $*" >&2; }

ensure_tools() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v buildah >/dev/null || missing+=(buildah)
    # runc as well as podman's default crun: crun refuses hosts with hybrid cgroups.
    command -v runc >/dev/null || missing+=(runc)
    PATH="$PATH:/usr/sbin:/sbin" command -v debootstrap >/dev/null || missing+=(debootstrap)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        log "${missing[*]} missing and not installable here (needs root and apt-get)"
        exit 69
    fi
    log "installing ${missing[*]} (first run only)"
    local install=(apt-get install -y -q --no-install-recommends "${missing[@]}")
    if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2
    fi
}

# A minimal Debian with python3 made to look like the official image where the
# Dockerfile depends on it: python, python3 and pip under /usr/local/bin, C.UTF-8.
base_root=""
remove_base_root() {
    if [ -n "$base_root" ] && [ -d "$base_root" ]; then
        # debootstrap mounts /proc and /sys inside while it works; never delete through them.
        findmnt --list --noheadings --output TARGET | grep -F "$base_root/" | sort -r |
            xargs --no-run-if-empty umount --lazy || true
        rm -rf --one-file-system "$base_root"
    fi
}
trap remove_base_root EXIT

make_base() {
    base_root="$(mktemp -d)"
    local root="$base_root"
    log "making the base $base with debootstrap ($suite, minbase, python3; a few minutes)"
    PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates,netbase,tzdata \
        "$suite" "$root" >&2
    local found
    found="$(chroot "$root" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    if [ "$found" != "$python_line" ]; then
        log "Debian $suite has Python $found, the Dockerfile's base Python $python_line"
        exit 78
    fi
    ln -s /usr/bin/python3 "$root/usr/local/bin/python3"
    ln -s python3 "$root/usr/local/bin/python"
    ln -s /usr/bin/pip3 "$root/usr/local/bin/pip"
    # Debian marks its Python as externally managed; the official image's is not. The
    # Dockerfile installs into a venv either way.
    rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    tar --numeric-owner -C "$root" -c . | podman import \
        --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        --change "LABEL org.opencontainers.image.description=local-stand-in-for-$base_short" \
        - "$base" >/dev/null
    remove_base_root
}

build_image() {
    local args=(
        build --pull=never --isolation=chroot --format=docker
        --tag "$image" --file Dockerfile
    )
    # A machine whose outgoing TLS passes a proxy trusts that proxy's CA in its own
    # bundle; lend the bundle to the build steps (mounted, never copied into a layer) so
    # that pip can reach the package index from inside.
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        args+=(
            --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro
        )
    fi
    log "building $image"
    podman "${args[@]}" . >&2
}

ensure_tools
if podman image exists "$base_short"; then
    log "base $base_short: reusing the image in podman's storage"
else
    started=$SECONDS
    make_base
    log "base $base made in $((SECONDS - started))s"
fi
started=$SECONDS
build_image
log "$image built in $((SECONDS - started))s"
# Each rebuild leaves the previous image and build stages untagged: recent ones are the
# layer cache of the next build (dependencies not reinstalled), older ones only take disk.
podman image prune --force --filter until=72h >/dev/null
echo "$image"
