# Sourced by .ci/test: install the real mail peers the tests run (Debian's postfix, swaks).
# shellcheck shell=bash

# The tests start private Postfix instances of their own (tests/postfix.py); the package
# is wanted for its binaries only, never as the system's running mail server.
ensure_postfix() {
    local sbin_path="$PATH:/usr/sbin:/usr/local/sbin"
    local missing=()
    PATH="$sbin_path" command -v postfix >/dev/null || missing+=(postfix)
    PATH="$sbin_path" command -v swaks >/dev/null || missing+=(swaks)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "peers: ${missing[*]} missing and not installable here (needs root and apt-get);" \
            "the Postfix tests will be skipped (with CI=true they fail)" >&2
        return 0
    fi
    echo "peers: installing ${missing[*]} (first run only)" >&2
    # "No configuration": Debian's postinst then writes no main.cf of its own and
    # starts no mail system.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    local install=(apt-get install -y -q --no-install-recommends "${missing[@]}")
    if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2
    fi
    # Should the package have started the system instance anyway, stop it and keep it
    # from starting at boot.
    if PATH="$sbin_path" postfix status >/dev/null 2>&1; then
        PATH="$sbin_path" postfix stop >&2 || true
    fi
    if [ -d /run/systemd/system ]; then
        systemctl disable --now postfix.service >&2 || true
    elif command -v update-rc.d >/dev/null; then
        update-rc.d postfix disable >/dev/null 2>&1 || true
    fi
}

# The confirmation page is opened in a real browser by tests/app/records/test_confirm_browser.py:
# Debian's headless Chromium and the matching chromedriver, driven by Selenium.
ensure_chromium() {
    local missing=()
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "peers: ${missing[*]} missing and not installable here (needs root and apt-get);" \
            "the browser tests will be skipped (with CI=true they fail)" >&2
        return 0
    fi
    echo "peers: installing ${missing[*]} (first run only)" >&2
    local install=(apt-get install -y -q --no-install-recommends "${missing[@]}")
    if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive "${install[@]}" >&2
    fi
}
