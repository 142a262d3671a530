"""The package as a new user gets it: a wheel built from the tree, installed in a fresh
virtualenv outside the checkout, run from an empty directory; and the lock it ships with.

The fresh virtualenv gets the wheel alone (``--no-deps``); the dependencies are this test
run's own, made visible by a ``.pth`` line naming its site-packages (a plain path line: the
checkout's editable install there, a ``.pth`` hook of its own, is not run). Installing
them again from the index would take minutes and test pip, not us. Every test below
checks that ``app`` and ``mailhook`` come from the wheel, never from the checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from app.decision.rules import load_rules
from tests.dns_server import FixtureDnsServer
from tests.support import (
    ADMIN_TOKEN,
    REPO,
    RULES,
    SECRET_KEY,
    free_port,
    make_message,
    signed_by_acme,
)

pytestmark = pytest.mark.packaging

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = REPO / "requirements.lock"
ON_CI = os.environ.get("CI", "").lower() == "true"
# Never part of what is built: the tests and their data.
NOT_BUILT = {"tests", "fixtures"}
DEFAULT_SOURCE = "the default catalogue shipped in the package (INTAKEGUARD_RULES_DIR not set)"
START_TIMEOUT = 60


@dataclass(frozen=True)
class Installed:
    """A fresh virtualenv holding the wheel, and an empty directory to run it from."""

    venv: Path
    site_packages: Path
    empty: Path

    @property
    def intakeguard(self) -> Path:
        return self.venv / "bin" / "intakeguard"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def environment(self, **settings: str) -> dict[str, str]:
        """No INTAKEGUARD_* or PYTHON* variable of this run; ``settings`` (names unprefixed)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("INTAKEGUARD_", "PYTHON", "VIRTUAL_ENV"))
        }
        env.update({f"INTAKEGUARD_{k.upper()}": v for k, v in settings.items()})
        return env

    def run(self, *args: str | Path, **settings: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=self.empty,
            env=self.environment(**settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def tree_copy(target: Path) -> Path:
    """The files git would commit from the working tree (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (os.fsdecode(raw) for raw in listed)):
        source = REPO / name
        if name.split("/", 1)[0] in NOT_BUILT or not source.is_file():
            continue  # not built, or deleted in the working tree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    return target


def build_wheel(tmp: Path) -> Path:
    """pip's build of the tree copy, in an isolated build environment as a user's would be."""
    source = tree_copy(tmp / "source")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp / "dist", source],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if built.returncode != 0:
        reason = "\n".join((built.stdout + built.stderr).strip().splitlines()[-15:])
        if ON_CI:
            pytest.fail(f"the wheel cannot be built:\n{reason}")
        # Building fetches setuptools into an isolated environment: impossible only
        # without a package index or a pip cache holding it.
        pytest.skip(f"the wheel cannot be built on this machine (no package index?):\n{reason}")
    (wheel,) = (tmp / "dist").glob("intakeguard-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("packaging")
    wheel = build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", python]
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "--no-index", wheel], check=True)
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site_packages / "dependencies-of-this-test-run.pth").write_text("\n".join(sorted(ours)))
    empty = tmp / "empty"
    empty.mkdir()
    return Installed(venv=venv, site_packages=site_packages, empty=empty)


def test_app_and_mailhook_are_the_wheels(installed: Installed) -> None:
    script = (
        "import json, app, mailhook; from importlib import metadata; "
        "print(json.dumps([app.__file__, mailhook.__file__, "
        "str(metadata.distribution('intakeguard').locate_file(''))]))"
    )
    result = installed.run(installed.python, "-c", script)
    assert result.returncode == 0, result.stderr
    for path in json.loads(result.stdout):
        assert Path(path).is_relative_to(installed.site_packages), path


def test_version_is_the_projects(installed: Installed) -> None:
    result = installed.run(installed.intakeguard, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"intakeguard {PYPROJECT['project']['version']}\n"


def test_the_wheel_carries_rules_as_they_are_and_the_license(installed: Installed) -> None:
    shipped = installed.site_packages / "app" / "default_rules"
    assert sorted(path.name for path in shipped.iterdir()) == sorted(
        path.name for path in RULES.glob("*.toml")
    )
    for path in RULES.glob("*.toml"):
        assert (shipped / path.name).read_bytes() == path.read_bytes(), path.name
    (dist_info,) = installed.site_packages.glob("intakeguard-*.dist-info")
    licenses = list(dist_info.rglob("LICENSE"))
    assert [path.read_bytes() for path in licenses] == [(REPO / "LICENSE").read_bytes()]


def test_rules_check_reads_the_default_catalogue(installed: Installed) -> None:
    result = installed.run(installed.intakeguard, "rules", "check")
    assert result.returncode == 0, result.stderr
    shipped = installed.site_packages / "app" / "default_rules"
    version = load_rules(RULES).version
    assert result.stdout.splitlines()[0] == (
        f"rules {shipped} are valid, version {version}; {DEFAULT_SOURCE}"
    )
    # An explicit directory still wins.
    explicit = installed.run(installed.intakeguard, "rules", "check", rules_dir=str(RULES))
    assert explicit.stdout.startswith(f"rules {RULES} are valid"), explicit.stderr


@pytest.fixture
def serving(installed: Installed, dns_server: FixtureDnsServer) -> Iterator[tuple[str, Path]]:
    """``intakeguard serve`` of the wheel, from the empty directory: its URL and its log."""
    port = free_port()
    env = installed.environment(
        database_url=f"sqlite:///{installed.empty.parent / 'store' / 'intakeguard.db'}",
        secret_key=SECRET_KEY,
        admin_token=ADMIN_TOKEN,
        http_listen=f"127.0.0.1:{port}",
        dns_nameservers=dns_server.address,
        dns_timeout="2",
        log_format="text",
    )
    log = installed.empty.parent / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [installed.intakeguard, "serve"],
            cwd=installed.empty,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not get ready ({process.poll()}):\n{log.read_text()}")
            time.sleep(0.2)
        yield url, log
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_one_message_through_serve(installed: Installed, serving: tuple[str, Path]) -> None:
    url, log = serving
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    customer = {
        "panel_email": "jan@acme.pl",
        "kind": "company",
        "name": "ACME sp. z o.o.",
        "services": ["acme.pl"],
    }
    put = httpx.put(f"{url}/v1/customers/acme", json=customer, headers=admin, timeout=30)
    assert put.status_code in (200, 201), put.text
    raw = signed_by_acme(
        make_message(
            subject="Prosze o duplikat faktury",
            body="Dzien dobry, prosze o duplikat faktury VAT 12/2026 za acme.pl.\n",
        )
    )
    envelope = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}
    response = httpx.post(
        f"{url}/v1/messages",
        content=raw,
        params={**envelope, "rcpt": "support@hosting.example"},
        headers={**admin, "Content-Type": "message/rfc822"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    verdict = response.json()
    results = {check["name"]: check["result"] for check in verdict["checks"]}
    # Each asked the fixture DNS server: the wheel's checks, on real DNS.
    assert (results["spf"], results["dkim"], results["dmarc"]) == ("pass", "pass", "pass")
    assert (verdict["decision"], verdict["assurance"], verdict["customer"]) == (
        "accepted",
        "authenticated",
        "acme",
    ), verdict["reasons"]
    assert verdict["instruction"]["kinds"] == ["invoice_duplicate"]
    # Decided under the default catalogue, which the start-up log names.
    assert verdict["rules_version"] == load_rules(RULES).version
    shipped = installed.site_packages / "app" / "default_rules"
    assert re.search(
        rf"rules {re.escape(str(shipped))}, version {verdict['rules_version']}; "
        + re.escape(DEFAULT_SOURCE),
        log.read_text(),
    ), log.read_text()


def test_the_console_is_served_from_the_wheel(serving: tuple[str, Path]) -> None:
    # Its templates and stylesheet are package data: a wheel without them would start
    # and then fail on the first page.
    url, _ = serving
    login = httpx.get(f"{url}/console/login", timeout=30)
    assert login.status_code == 200, login.text
    assert 'name="login"' in login.text and 'name="password"' in login.text
    css = httpx.get(f"{url}/console/static/console.css", timeout=30)
    assert css.status_code == 200
    assert css.content == (REPO / "app" / "console" / "static" / "console.css").read_bytes()
    # Its catalogues too, compiled from the .po sources the wheel carries: the page in Polish.
    polish = httpx.get(f"{url}/console/login", headers={"Accept-Language": "pl"}, timeout=30)
    assert '<html lang="pl">' in polish.text and "Zaloguj się" in polish.text


def test_the_wheel_carries_the_consoles_catalogues_as_they_are(installed: Installed) -> None:
    source = REPO / "app" / "console" / "locale"
    shipped = installed.site_packages / "app" / "console" / "locale"
    catalogues = sorted(path.relative_to(source) for path in source.rglob("*.po"))
    assert [str(path) for path in catalogues] == [
        "en/LC_MESSAGES/console.po",
        "pl/LC_MESSAGES/console.po",
    ]
    assert sorted(path.relative_to(shipped) for path in shipped.rglob("*.po")) == catalogues
    for path in catalogues:
        assert (shipped / path).read_bytes() == (source / path).read_bytes(), path


# --- the lock ----------------------------------------------------------------------------


def locked() -> dict[str, tuple[str, int]]:
    """requirements.lock as {name: (version, number of hashes)}."""
    pins: dict[str, tuple[str, int]] = {}
    name = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", line)
        if pin:
            name = canonicalize_name(pin.group(1))
            pins[name] = (pin.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def test_the_lock_pins_every_dependency_within_its_bounds() -> None:
    """Offline, every run; .ci/run also compares the lock with a fresh resolution
    (.ci/lock.sh --check), which needs the package index."""
    pins = locked()
    assert pins, "requirements.lock pins nothing"
    wanted = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    wanted += [Requirement(line) for line in PYPROJECT["build-system"]["requires"]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run .ci/lock.sh"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside {requirement}: run .ci/lock.sh"
        )
        for extra in requirement.extras:
            # What the extra adds, as the installed distribution declares it.
            for needed in map(Requirement, metadata.requires(requirement.name) or []):
                if needed.marker and needed.marker.evaluate({"extra": extra}):
                    assert canonicalize_name(needed.name) in pins, f"{needed} ({requirement})"
    unhashed = [name for name, (_, hashes) in pins.items() if hashes == 0]
    assert not unhashed, f"pinned without a hash: {unhashed}"
