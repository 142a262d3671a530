#!/usr/bin/env bash
# requirements.lock: every package the service runs on (pyproject.toml's dependencies and
# all they need) and the setuptools that builds it, each pinned to one release with the
# hashes of its files. The container image installs from it alone (Dockerfile).
#
# Usage: .ci/lock.sh            write requirements.lock again after pyproject.toml changed:
#                               pins still allowed are kept, new ones are the newest allowed
#        .ci/lock.sh --upgrade  every pin moved to the newest release pyproject.toml allows
#        .ci/lock.sh --check    exit 1 if requirements.lock is not what the first form
#                               would write (run by .ci/run; needs the package index)
#
# Resolved for the image's Python (3.11) by uv from .venv's dev extra, against the
# package index (UV_INDEX_URL to use a mirror). Seconds, not minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=requirements.lock
mode="${1:-}"
case "$mode" in
    "" | --upgrade | --check) ;;
    *)
        echo "usage: .ci/lock.sh [--upgrade | --check]" >&2
        exit 64
        ;;
esac

source .ci/venv.sh
ensure_venv

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# What the lock is resolved from, named the same every time (the file records it):
# the project's dependencies and, for building the project itself, its build requirements.
.venv/bin/python - "$work" <<'EOF'
import pathlib, sys, tomllib
project = tomllib.loads(pathlib.Path("pyproject.toml").read_text(encoding="utf-8"))
lines = project["project"]["dependencies"] + project["build-system"]["requires"]
pathlib.Path(sys.argv[1], "requirements.in").write_text("\n".join(lines) + "\n")
EOF
# uv keeps the versions an existing output file pins, where they are still allowed. It
# keeps the hashes written there too: handed the pins alone, it takes every hash from the
# index again, so that a wrong or missing one shows in --check.
if [ "$mode" != --upgrade ] && [ -f "$lock" ]; then
    sed -e '/^ *--hash=/d' -e 's/ \\$//' "$lock" >"$work/$lock"
fi

compile=(
    "$PWD/.venv/bin/uv" pip compile requirements.in
    --output-file "$lock"
    --generate-hashes
    --python-version 3.11
    --no-strip-markers
    --custom-compile-command ".ci/lock.sh"
    # The system's certificates: a machine whose TLS passes a proxy trusts it there.
    --native-tls
    --quiet
)
if [ "$mode" = --upgrade ]; then
    compile+=(--upgrade)
fi
(cd "$work" && "${compile[@]}")

if [ "$mode" = --check ]; then
    if ! diff -u "$lock" "$work/$lock" >"$work/diff"; then
        cat "$work/diff" >&2
        echo "lock: $lock does not match pyproject.toml; run .ci/lock.sh and commit it" >&2
        exit 1
    fi
    echo "lock: $lock matches pyproject.toml" >&2
else
    cp "$work/$lock" "$lock"
    echo "lock: wrote $lock ($(grep -c '==' "$lock") pins)" >&2
fi
