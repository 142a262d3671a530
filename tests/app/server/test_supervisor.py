"""``intakeguard serve --workers 2``: one port each for SMTP and HTTP, two processes behind."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.app.server.test_doors import milter_send
from tests.app.server.test_replicas import (
    DESK,
    ENVELOPE,
    empty_store,
    intakeguard,
    listed_verdicts,
    smtp_door,
)
from tests.app.server.test_shutdown import (
    EX_CONFIG,
    INTAKEGUARD,
    RunningService,
    free_port,
    refused,
    running,
    service_environment,
    start_data,
)
from tests.dns_server import FixtureDnsServer
from tests.support import ADMIN_TOKEN, TLS, make_message

MESSAGES = 24
_STARTED = re.compile(r"worker (\d+) started \(pid (\d+)\)")


def log_lines(service: RunningService) -> list[dict[str, Any]]:
    """The JSON log lines the supervisor and its workers wrote so far."""
    return [
        json.loads(line)
        for line in service.stderr().splitlines()
        if line.startswith("{") and line.endswith("}")
    ]


def worker_pids(service: RunningService) -> dict[int, int]:
    """The pid of each worker number, the latest started."""
    pids = {}
    for line in log_lines(service):
        if found := _STARTED.fullmatch(line["message"]):
            pids[int(found[1])] = int(found[2])
    return pids


def wait_ready(service: RunningService, workers: int = 2, timeout: float = 90) -> None:
    """Until every worker's API and SMTP receiver are up (each logs when it listens)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise AssertionError(f"exited {service.process.returncode}:\n{service.stderr()}")
        listening = Counter(
            line.get("worker")
            for line in log_lines(service)
            if line["message"].startswith("decision API listening")
        )
        if len(listening) == workers:
            service.wait_until_listening(service.smtp_port)
            return
        time.sleep(0.1)
    raise AssertionError(f"not every worker started:\n{service.stderr()}")


def wait_for_lines(service: RunningService, start: str, count: int, timeout: float = 60) -> None:
    """Until ``count`` log lines start with ``start``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(line["message"].startswith(start) for line in log_lines(service)) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} lines {start!r}:\n{service.stderr()}")


def recording_workers(service: RunningService) -> Counter[int]:
    """How many verdicts each worker recorded, from its log lines."""
    return Counter(
        line["worker"]
        for line in log_lines(service)
        if line["message"].startswith("recorded verdict")
    )


def send_concurrently(service: RunningService, messages: list[bytes]) -> list[str]:
    """Every message in a session of its own, eight at a time; the verdict ids answered."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(smtp_door(service), messages))


def api(service: RunningService) -> httpx.Client:
    return httpx.Client(
        verify=TLS,
        base_url=service.http_url,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=60,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, dns_server: FixtureDnsServer) -> str:
    """An empty store at the head revision: a SQLite file serve migrates, or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'intakeguard.db'}"
    url: str = request.getfixturevalue("postgresql_url")
    intakeguard(tmp_path, dns_server, url, "db", "upgrade")
    empty_store(url)
    return url


@pytest.fixture
def two_workers(
    tmp_path: Path, dns_server: FixtureDnsServer, store: str
) -> Iterator[RunningService]:
    with running(tmp_path, dns_server, "serve", "--workers", "2", database_url=store) as service:
        wait_ready(service)
        yield service


def test_two_workers_record_every_message_once_in_one_chain(
    two_workers: RunningService, tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    messages = [
        make_message(subject=f"Duplikat faktury {n}/2026 dla acme.pl") for n in range(MESSAGES)
    ]
    with ThreadPoolExecutor(max_workers=2) as pool, api(two_workers) as client:
        sending = pool.submit(send_concurrently, two_workers, messages)
        # API reads on the one HTTP port meanwhile, while the verdicts are being written.
        reads = [client.get("/v1/verdicts", params={"limit": 5}).status_code for _ in range(20)]
        answered = sending.result()
        listed = listed_verdicts(client)

    assert set(reads) == {200}
    assert len(set(answered)) == MESSAGES
    assert sorted(v["id"] for v in listed) == sorted(answered)
    # Both processes took connections on the one port.
    by_worker = recording_workers(two_workers)
    assert set(by_worker) == {1, 2}, by_worker
    assert sum(by_worker.values()) == MESSAGES
    verify = intakeguard(
        tmp_path, dns_server, two_workers.database_url, "audit", "verify", "--json"
    )
    assert json.loads(verify)["intact"] is True
    two_workers.terminate()
    assert two_workers.wait() == 0, two_workers.stderr()


def test_a_pool_of_sessions_opened_one_by_one_is_shared_by_the_workers(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    # A relay's connection cache, or the benchmark's clients: sessions opened one after the
    # other and kept. Idle workers are woken in the same order for each connection, and the
    # first one took every session (mailhook.accepting).
    sessions = 8
    with running(tmp_path, dns_server, "serve", "--workers", "2") as service:
        wait_ready(service)
        wait_for_lines(service, "SMTP receiver listening", 2)
        # Worker 1 starts the background work too; a worker busy at start-up rightly
        # leaves connections to the other, which is not what this test is about.
        time.sleep(1.0)
        clients = []
        try:
            for _ in range(sessions):
                client = smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=60)
                client.ehlo(ENVELOPE["helo"])
                clients.append(client)
            for number, client in enumerate(clients):
                assert client.mail(ENVELOPE["mail_from"])[0] == 250
                assert client.rcpt(DESK)[0] == 250
                raw = make_message(subject=f"Duplikat faktury {number}/2026 dla acme.pl")
                assert client.data(raw)[0] == 250, service.stderr()
        finally:
            for client in clients:
                client.quit()
        by_worker = recording_workers(service)
        assert sum(by_worker.values()) == sessions
        assert min(by_worker[1], by_worker[2]) >= sessions // 2 - 1, by_worker
        service.terminate()
        assert service.wait() == 0, service.stderr()


def scrape(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_the_traffic_of_every_worker(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    metrics_listen = f"127.0.0.1:{free_port()}"
    received = ("intakeguard_messages_received_total", (("door", "smtp"),))
    with (
        running(
            tmp_path, dns_server, "serve", "--workers", "2", metrics_listen=metrics_listen
        ) as service,
        api(service) as client,
        httpx.Client(verify=TLS, base_url=f"http://{metrics_listen}", timeout=30) as metrics_port,
    ):
        wait_ready(service)
        before = scrape(client).get(received, 0.0)
        send_concurrently(service, [make_message(subject=f"Faktura {n}") for n in range(16)])
        assert set(recording_workers(service)) == {1, 2}
        # Whichever worker answers the scrape, on either port, it counts what both received.
        for scraped in (client, metrics_port) * 3:
            samples = scrape(scraped)
            assert samples[received] - before == 16
            assert samples[("intakeguard_audit_chain_length", ())] >= 16
        # The sessions' ends are counted a moment after their 221 (when the server sees
        # the connection close): the sum over both workers comes down to 0.
        deadline = time.monotonic() + 10
        while scrape(client)[("intakeguard_smtp_sessions_open", ())] != 0:
            assert time.monotonic() < deadline, scrape(client)
            time.sleep(0.1)
        service.terminate()
        assert service.wait() == 0, service.stderr()


def test_sigterm_lets_a_worker_finish_its_transaction_and_exits_0(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "serve", "--workers", "2") as service:
        wait_ready(service)
        raw = make_message(subject="Duplikat faktury 12/2026 dla acme.pl")
        head, _, body = raw.partition(b"\r\n\r\n")
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=30) as client:
            start_data(client)
            client.send(head + b"\r\n\r\n")
            service.terminate()
            # Neither worker, nor the supervisor, lets anybody new in.
            assert refused(service.smtp_port), service.stderr()
            client.send(body + b"\r\n.\r\n")
            code, reply = client.getreply()
            assert code == 250, (reply, service.stderr())
            assert client.getreply()[0] == 421
        assert service.wait() == 0, service.stderr()
    assert "all workers stopped" in service.stderr()


def test_a_killed_worker_is_replaced_and_the_others_keep_serving(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "serve", "--workers", "2") as service:
        wait_ready(service)
        first = worker_pids(service)
        os.kill(first[2], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while worker_pids(service).get(2) == first[2] and time.monotonic() < deadline:
            # Meanwhile worker 1 takes every connection.
            smtp_door(service)(make_message(subject=f"Faktura {time.monotonic()}"))
            time.sleep(0.2)
        replaced = worker_pids(service)
        assert replaced[1] == first[1]
        assert replaced[2] != first[2], service.stderr()
        assert f"worker 2 (pid {first[2]}) was killed by SIGKILL" in service.stderr()
        wait_ready_again = time.monotonic() + 60
        while time.monotonic() < wait_ready_again:
            lines = [
                line
                for line in log_lines(service)
                if line.get("worker") == 2 and line["message"].startswith("decision API listening")
            ]
            if len(lines) == 2:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(service.stderr())
        with api(service) as client:
            assert client.get("/readyz").status_code == 200
        service.terminate()
        assert service.wait() == 0, service.stderr()


def test_workers_stop_when_the_supervisor_is_killed(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "serve", "--workers", "2") as service:
        wait_ready(service)
        pids = worker_pids(service).values()
        service.process.kill()
        service.wait()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids), service.stderr()
    assert service.stderr().count("the supervisor (pid") == 2


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, reaped by init soon, counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_that_cannot_start_stops_the_supervisor_with_its_status(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    # The rules are read by the workers: each ends with 78, and nothing is restarted.
    missing = str(tmp_path / "no-rules-here")
    with running(tmp_path, dns_server, "serve", "--workers", "2", rules_dir=missing) as service:
        assert service.wait(timeout=90) == EX_CONFIG, service.stderr()
        stderr = service.stderr()
    assert "configuration error" in stderr
    assert "(configuration error); stopping" in stderr
    assert stderr.count("started (pid") == 2


def test_a_port_in_use_stops_the_supervisor_with_one_line(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        for setting in ("http_listen", "smtp_listen", "metrics_listen"):
            with running(
                tmp_path, dns_server, "serve", "--workers", "2", **{setting: address}
            ) as service:
                assert service.wait() == EX_CONFIG
                lines = service.stderr().strip().splitlines()
            named = f"INTAKEGUARD_{setting.upper()} {address} is already in use"
            assert lines == [f"intakeguard: configuration error: {named}"]


def test_workers_setting_and_option(tmp_path: Path, dns_server: FixtureDnsServer) -> None:
    env = service_environment(tmp_path, dns_server)
    help_text = subprocess.run(
        [str(INTAKEGUARD), "serve", "--help"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "--workers N" in help_text
    assert "INTAKEGUARD_WORKERS" in help_text
    for option, variable in (("0", None), (None, "lots")):
        run_env = {**env, "INTAKEGUARD_WORKERS": variable} if variable else env
        args = ["--workers", option] if option else []
        result = subprocess.run(
            [str(INTAKEGUARD), "serve", *args],
            cwd=tmp_path,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == EX_CONFIG
        named = "--workers" if option else "INTAKEGUARD_WORKERS"
        assert result.stderr.startswith(f"intakeguard: configuration error: {named}: ")


def test_auto_is_one_worker_per_usable_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import cpu_count, load_settings

    monkeypatch.setenv("INTAKEGUARD_WORKERS", "auto")
    assert load_settings().workers == cpu_count()
    assert 1 <= cpu_count() <= len(os.sched_getaffinity(0))
    monkeypatch.setenv("INTAKEGUARD_WORKERS", "3")
    assert load_settings().workers == 3


def test_every_worker_serves_the_milter_on_the_one_port(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    port = free_port()
    with running(
        tmp_path, dns_server, "serve", "--workers", "2", milter_listen=f"127.0.0.1:{port}"
    ) as service:
        wait_ready(service)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            milters = {
                line.get("worker")
                for line in log_lines(service)
                if line["message"].startswith("milter listening")
            }
            if len(milters) == 2:
                break
            time.sleep(0.1)
        messages = [make_message(subject=f"Pytanie {n} o domene acme.pl") for n in range(8)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            replies = list(pool.map(lambda raw: milter_send(port, raw), messages))
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=60) == 0, service.stderr()
    assert milters == {1, 2}, service.stderr()
    # Each message stamped with a verdict of its own.
    assert all(reply.startswith("250 stamped ") for reply in replies), replies
    assert len({reply.rpartition(" ")[2] for reply in replies}) == len(messages)
