"""The container image: built by .ci/container.sh, run with podman, one message in over SMTP."""

from __future__ import annotations

import json
import os
import re
import secrets
import smtplib
import subprocess
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from typing import Any

import httpx
import pytest

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

pytestmark = pytest.mark.skipif(
    os.environ.get("INTAKEGUARD_CONTAINER_TEST") != "1",
    reason="builds and runs the container image with podman (root; minutes on first run): "
    "INTAKEGUARD_CONTAINER_TEST=1 .venv/bin/pytest tests/container",
)

IMAGE = "localhost/intakeguard:test"
DATA = "/var/lib/intakeguard"
DESK = "support@hosting.example"
# Bounds, not measurements: a cold build makes the base image with debootstrap first.
BUILD_TIMEOUT = 1800
START_TIMEOUT = 60
STOP_TIMEOUT = 30
RECORDED = re.compile(r"Ok: recorded (\S+)")
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DEFAULT_SOURCE = "the default catalogue shipped in the package (INTAKEGUARD_RULES_DIR not set)"
# What rootful podman may do on this kind of machine: runc, as crun refuses hosts with
# hybrid cgroups; explicit rlimits, as podman's defaults would raise them and that needs
# CAP_SYS_RESOURCE.
RUN_OPTIONS = ("--runtime=runc", "--ulimit=nofile=4096:4096", "--ulimit=nproc=4096:4096")


@pytest.fixture(scope="module")
def image() -> str:
    subprocess.run(
        ["bash", str(REPO / ".ci" / "container.sh"), IMAGE],
        check=True,
        timeout=BUILD_TIMEOUT,
        stdout=subprocess.DEVNULL,
    )
    return IMAGE


def podman(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=check
    )


@dataclass
class Running:
    name: str
    http_url: str
    smtp_port: int


@pytest.fixture
def volume(image: str) -> Iterator[str]:
    """A fresh named volume for the data directory, removed afterwards."""
    name = f"intakeguard-test-{secrets.token_hex(4)}"
    podman("volume", "create", name)
    try:
        yield name
    finally:
        podman("volume", "rm", "--force", name, check=False)


@contextmanager
def container(image: str, volume: str, dns: FixtureDnsServer) -> Iterator[Running]:
    """``intakeguard serve`` from the image until the block ends; always removed after."""
    name = f"intakeguard-test-{secrets.token_hex(4)}"
    http_port, smtp_port = free_port(), free_port()
    settings = {
        "INTAKEGUARD_SECRET_KEY": SECRET_KEY,
        "INTAKEGUARD_ADMIN_TOKEN": ADMIN_TOKEN,
        # The image listens on 0.0.0.0; sharing this machine's network, the test keeps
        # the container to loopback.
        "INTAKEGUARD_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "INTAKEGUARD_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "INTAKEGUARD_DNS_NAMESERVERS": dns.address,
        "INTAKEGUARD_DNS_TIMEOUT": "2",
        "INTAKEGUARD_INTAKE_RECIPIENTS": "@hosting.example",
        # The test client speaks for the sender's server with XFORWARD, as Postfix does.
        "INTAKEGUARD_TRUSTED_RELAYS": "127.0.0.1/32",
    }
    environment = [arg for key, value in settings.items() for arg in ("--env", f"{key}={value}")]
    podman(
        "run",
        *RUN_OPTIONS,
        "--detach",
        f"--name={name}",
        "--network=host",
        # Anything resolved through libc goes to loopback too, never this machine's resolver.
        "--dns=127.0.0.1",
        f"--volume={volume}:{DATA}",
        *environment,
        image,
    )
    running = Running(name, f"http://127.0.0.1:{http_port}", smtp_port)
    try:
        wait_ready(running)
        yield running
    finally:
        podman("rm", "--force", "--time=0", name, check=False)


def wait_ready(running: Running) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = podman("inspect", "--format={{.State.Status}}", running.name).stdout.strip()
        if state != "running":
            logs = podman("logs", running.name, check=False)
            pytest.fail(f"container {state}: {logs.stdout}{logs.stderr}")
        try:
            if httpx.get(f"{running.http_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    logs = podman("logs", running.name, check=False)
    pytest.fail(f"not ready within {START_TIMEOUT}s: {logs.stdout}{logs.stderr}")


def stop(running: Running) -> int:
    """SIGTERM, as `podman stop` and orchestrators send it; the exit code."""
    podman("kill", "--signal=TERM", running.name)
    return int(podman("wait", running.name, timeout=STOP_TIMEOUT).stdout.strip())


def signed_message() -> bytes:
    raw = make_message(
        subject="Prosze o duplikat faktury",
        body="Dzien dobry, prosze o duplikat faktury VAT 12/2026 za acme.pl.\n",
    )
    return signed_by_acme(raw)


def send(running: Running, raw: bytes) -> str:
    """One SMTP transaction as relayed from acme.pl's own server; the verdict id."""
    with smtplib.SMTP("127.0.0.1", running.smtp_port, timeout=30) as client:
        client.ehlo("relay.test")
        assert client.has_extn("xforward")
        assert client.docmd("XFORWARD", "ADDR=192.0.2.10 HELO=mx.acme.pl")[0] == 250
        assert client.mail("jan@acme.pl")[0] == 250
        assert client.rcpt(DESK)[0] == 250
        code, reply = client.data(raw)
    assert code == 250, reply
    match = RECORDED.search(reply.decode())
    assert match, reply
    return match.group(1)


def verdict(running: Running, verdict_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{running.http_url}/v1/verdicts/{verdict_id}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_image_runs_unprivileged_with_its_defaults(image: str) -> None:
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert set(config["ExposedPorts"]) == {"8080/tcp", "2525/tcp"}
    assert set(config["Volumes"]) == {DATA}
    assert config["Entrypoint"] == ["intakeguard"]
    assert config["Cmd"] == ["serve"]
    assert "INTAKEGUARD_HTTP_LISTEN=0.0.0.0:8080" in config["Env"]
    assert "INTAKEGUARD_SMTP_LISTEN=0.0.0.0:2525" in config["Env"]
    assert f"INTAKEGUARD_DATABASE_URL=sqlite:///{DATA}/intakeguard.db" in config["Env"]
    assert "/healthz" in " ".join(inspected["Healthcheck"]["Test"])


def test_the_image_runs_its_version_under_the_default_catalogue(image: str) -> None:
    # No INTAKEGUARD_RULES_DIR in the image: the catalogue inside the installed package.
    assert not any(env.startswith("INTAKEGUARD_RULES_DIR=") for env in image_env(image))
    rules = podman("run", *RUN_OPTIONS, "--rm", "--network=none", image, "rules", "check")
    first = rules.stdout.splitlines()[0]
    assert first.startswith("rules /opt/intakeguard/lib/python3.11/site-packages/app/default_rules")
    assert first.endswith(f"version {load_rules(RULES).version}; {DEFAULT_SOURCE}"), first
    version = podman("run", *RUN_OPTIONS, "--rm", "--network=none", image, "--version")
    assert version.stdout == f"intakeguard {PROJECT['version']}\n"


def image_env(image: str) -> list[str]:
    config: dict[str, Any] = json.loads(podman("image", "inspect", image).stdout)[0]["Config"]
    return list(config["Env"])


def test_missing_secret_stops_start_up_with_one_line(image: str) -> None:
    result = podman("run", *RUN_OPTIONS, "--rm", "--network=none", image, "serve", check=False)
    assert result.returncode == 78, result.stderr
    assert "INTAKEGUARD_SECRET_KEY: missing" in result.stderr


def test_message_over_smtp_gets_a_verdict_that_outlives_the_container(
    image: str, volume: str, dns_server: FixtureDnsServer
) -> None:
    raw = signed_message()
    message_id = message_from_bytes(raw)["Message-ID"]
    with container(image, volume, dns_server) as running:
        uid = podman("exec", running.name, "python", "-c", "import os; print(os.getuid())")
        assert uid.stdout.strip() == "10001"
        assert podman("healthcheck", "run", running.name, check=False).returncode == 0
        verdict_id = send(running, raw)
        first = verdict(running, verdict_id)
        assert stop(running) == 0
    assert first["channel"] == "smtp"
    assert first["message_id"] == message_id
    results = {check["name"]: check["result"] for check in first["checks"]}
    # Each needs an answer from the fixture zones: the container asked our DNS server.
    assert results["spf"] == "pass"
    assert results["dkim"] == "pass"
    assert results["dmarc"] == "pass"
    assert first["rules_version"] == load_rules(RULES).version
    # A new container on the same volume finds the verdict in the SQLite file there.
    with container(image, volume, dns_server) as running:
        assert verdict(running, verdict_id) == first
        assert stop(running) == 0
