# Sourced by the other scripts: make sure .venv exists and matches pyproject.toml.
# shellcheck shell=bash
ensure_venv() {
    local stamp=.venv/.installed-from
    local wanted
    wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ ! -x .venv/bin/python ]; then
        echo "setting up .venv (first run only)" >&2
        python3 -m venv .venv
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        .venv/bin/python -m pip install --quiet --upgrade pip >&2
        .venv/bin/python -m pip install --quiet -e ".[test,dev]" >&2
        echo "$wanted" >"$stamp"
    fi
}
