"""intakeguard behind a real Postfix: relay with XFORWARD, pipe transport, kill -9 under load.

Stores: the relay test runs on SQLite and PostgreSQL (its receiver is in process, so a
second store costs one more Postfix start); the pipe and crash tests run a real
``intakeguard`` process on an SQLite file only, which is what one-machine installs use.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.engine import make_engine, session_factory
from app.db.models import Verdict
from app.decision.service import DecisionService
from app.server.handoff import InProcessHandoff
from mailhook.smtp_config import SmtpConfig
from tests.dns_server import FixtureDnsServer
from tests.postfix import (
    INTAKEGUARD,
    PostfixInstance,
    free_port,
    intakeguard_command,
    listening,
    postfix_unavailable,
    submit,
    wait_for,
)
from tests.smtp_server import SmtpThread
from tests.support import RULES, SECRET_KEY, make_message

ON_CI = os.environ.get("CI", "").lower() == "true"
DESK = "support@desk.example"
SENDER = "jan@acme.pl"
# The test client speaks to Postfix from its own loopback address, so that the client
# intakeguard must see differs from Postfix's own 127.0.0.1.
CLIENT_IP = "127.0.0.5"
CLIENT_HELO = "mx.acme.pl"
PIPE_USER = "nobody"
RECORDED = re.compile(r"recorded ([0-9a-f-]{36})")
MESSAGE_ID = re.compile(rb"^Message-ID: (\S+)", re.MULTILINE | re.IGNORECASE)

# master.cf: the smtp(8) client that relays to intakeguard, telling it with XFORWARD
# which client and HELO the message came from. Only this transport sends XFORWARD.
RELAY_SERVICE = """\
intakeguard-smtp unix  -       -       n       -       -       smtp
  -o smtp_send_xforward_command=yes"""


def relay_main(port: int) -> dict[str, str]:
    return {"transport_maps": f"inline:{{desk.example=intakeguard-smtp:[127.0.0.1]:{port}}}"}


def pipe_service(command: list[str], config: Path) -> str:
    # pipe(8) macros; null_sender= keeps a bounce's empty sender empty ("--sender ''").
    return (
        "intakeguard unix  -       n       n       -       2       pipe\n"
        f"  user={PIPE_USER} null_sender=\n"
        f"  argv={' '.join(command)} --config {config} pipe"
        " --sender ${sender} --recipient ${recipient}"
        " --client-ip ${client_address} --helo ${client_helo}"
    )


PIPE_MAIN = {
    "transport_maps": "inline:{desk.example=intakeguard:}",
    # One recipient per run: ${recipient} expands to one argument per recipient.
    "intakeguard_destination_recipient_limit": "1",
}


@pytest.fixture(scope="module", autouse=True)
def postfix_required() -> None:
    reason = postfix_unavailable()
    if reason is None:
        return
    if ON_CI:
        pytest.fail(f"the Postfix tests must run on CI: {reason}")
    pytest.skip(
        f"{reason}; to run the Postfix tests, run `bash .ci/test` as root (it installs "
        "Debian's postfix and swaks with apt-get) or install them and run pytest as root"
    )


@pytest.fixture
def postfix_root() -> Iterator[Path]:
    """A directory for one Postfix instance, reachable by its daemons and the pipe user.

    Not pytest's tmp_path: pytest makes its directories private to the user running
    the tests (0700), and Postfix's daemons (user postfix) and the pipe command (user
    nobody) must get in.
    """
    root = Path(tempfile.mkdtemp(prefix="intakeguard-postfix-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def message_id_of(raw: bytes) -> str:
    match = MESSAGE_ID.search(raw)
    assert match is not None, raw
    return match.group(1).decode()


def with_message_id(raw: bytes, message_id: str) -> bytes:
    return MESSAGE_ID.sub(b"Message-ID: " + message_id.encode(), raw, count=1)


def recorded_id(delivery: str) -> str:
    match = RECORDED.search(delivery)
    assert match is not None, delivery
    return match.group(1)


def verdict_rows(database_url: str) -> list[Verdict]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(Verdict).order_by(Verdict.seq)))
    finally:
        # Closed before Postfix's next delivery: SQLite's -wal/-shm files must not be
        # left behind owned by root when the pipe user writes next.
        engine.dispose()


def test_relay_with_xforward_records_the_original_client(
    service: DecisionService, postfix_root: Path
) -> None:
    config = SmtpConfig(
        recipients=("@desk.example",),
        trusted_relays=(ipaddress.ip_network("127.0.0.1/32"),),
        hostname="intakeguard.test",
    )
    with (
        SmtpThread(lambda: InProcessHandoff(service), config) as receiver,
        PostfixInstance(
            postfix_root, main=relay_main(receiver.port), services=[RELAY_SERVICE]
        ) as postfix,
    ):
        queue_id = postfix.send(make_message(), SENDER, [DESK], source=CLIENT_IP, helo=CLIENT_HELO)
        delivery = postfix.wait_for_status(queue_id, "sent")

    with service.sessions() as session:
        verdict = session.scalar(select(Verdict).where(Verdict.id == recorded_id(delivery)))
    assert verdict is not None
    assert verdict.channel == "smtp"
    # Postfix connected from 127.0.0.1 as postfix.intakeguard.test; the verdict names
    # the client that handed the message to Postfix.
    assert verdict.envelope == {
        "client_ip": CLIENT_IP,
        "helo": CLIENT_HELO,
        "mail_from": SENDER,
        "rcpt": [DESK],
        # Postfix is one of our relays: what it hands over came through a hop of ours.
        "trusted_hop": True,
    }


def write_settings(path: Path, **values: Any) -> None:
    """An intakeguard TOML settings file readable by the pipe user only."""
    path.write_text("".join(f"{name} = {json.dumps(value)}\n" for name, value in values.items()))
    account = pwd.getpwnam(PIPE_USER)
    os.chown(path, account.pw_uid, account.pw_gid)
    path.chmod(0o600)


def test_pipe_defers_while_the_store_is_down_and_delivers_once_after(
    postfix_root: Path, dns_server: FixtureDnsServer
) -> None:
    account = pwd.getpwnam(PIPE_USER)
    store = postfix_root / "store"
    store.mkdir()
    os.chown(store, account.pw_uid, account.pw_gid)
    database_url = f"sqlite:///{store / 'intakeguard.db'}"
    settings_file = postfix_root / "intakeguard.toml"
    common = {
        "secret_key": SECRET_KEY,
        "rules_dir": str(RULES),
        "dns_nameservers": [dns_server.address],
        "dns_timeout": 1,
    }
    # Nothing listens on that port: the store is unavailable.
    down = f"postgresql://intakeguard@127.0.0.1:{free_port()}/intakeguard"
    write_settings(settings_file, database_url=down, **common)
    command = intakeguard_command(PIPE_USER, postfix_root / "shim")
    raw = make_message(subject="Duplikat faktury 12/2026 dla acme.pl")

    with PostfixInstance(
        postfix_root, main=PIPE_MAIN, services=[pipe_service(command, settings_file)]
    ) as postfix:
        queue_id = postfix.send(raw, SENDER, [DESK], source=CLIENT_IP, helo=CLIENT_HELO)
        deferred = postfix.wait_for_status(queue_id, "deferred")
        assert "database unavailable" in deferred, deferred
        assert [entry["queue_id"] for entry in postfix.queue()] == [queue_id], postfix.listing()
        assert "status=sent" not in postfix.log()

        write_settings(settings_file, database_url=database_url, **common)
        postfix.flush()
        postfix.wait_for_status(queue_id, "sent")
        postfix.wait_until_empty(10)
        deliveries = postfix.deliveries(queue_id)

    rows = verdict_rows(database_url)
    assert [row.message_id for row in rows] == [message_id_of(raw)], deliveries
    assert rows[0].channel == "pipe"
    assert rows[0].envelope == {
        "client_ip": CLIENT_IP,
        "helo": CLIENT_HELO,
        "mail_from": SENDER,
        "rcpt": [DESK],
        # Postfix is one of our relays: what it hands over came through a hop of ours.
        "trusted_hop": True,
    }
    assert sum("status=sent" in line for line in deliveries) == 1, deliveries
    # Postfix logs what the pipe wrote: the whole verdict id, found in the store.
    (sent,) = [line for line in deliveries if "status=sent" in line]
    assert recorded_id(sent) == rows[0].id, sent


class ServeProcess:
    """``intakeguard serve`` (or ``command``) as a child process on fixed loopback ports,
    logging to a file; started once ``port`` listens."""

    def __init__(self, env: dict[str, str], log: Path, port: int, command: str = "serve") -> None:
        self.env = env
        self.log = log
        self.port = port
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(INTAKEGUARD), self.command], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_for(self._ready, 30, f"intakeguard {self.command} to listen")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.log.read_text(errors='replace')[-3000:]}") from None

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"intakeguard {self.command} exited {self.process.returncode}:\n"
                f"{self.log.read_text(errors='replace')[-3000:]}"
            )
        return listening(self.port)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class Feeder(threading.Thread):
    """Submits ``count`` messages to Postfix at a steady pace, each with its own Message-ID."""

    def __init__(self, postfix: PostfixInstance, count: int, pause: float) -> None:
        super().__init__(daemon=True)
        self.postfix = postfix
        self.count = count
        self.pause = pause
        self.sent: dict[str, str] = {}
        """queue id -> Message-ID"""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with smtplib.SMTP(
                "127.0.0.1",
                self.postfix.smtp_port,
                local_hostname=CLIENT_HELO,
                source_address=(CLIENT_IP, 0),
                timeout=30,
            ) as client:
                for number in range(self.count):
                    message_id = f"<crash-{number}.{uuid.uuid4().hex}@acme.pl>"
                    raw = with_message_id(
                        make_message(subject=f"Pytanie {number} o domene acme.pl"), message_id
                    )
                    self.sent[submit(client, raw, SENDER, [DESK])] = message_id
                    time.sleep(self.pause)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            self.error = exc


CRASH_MESSAGES = 60


def test_kill_9_under_a_stream_of_mail_loses_nothing_and_records_nothing_twice(
    postfix_root: Path, tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    database_url = f"sqlite:///{tmp_path / 'intakeguard.db'}"
    smtp_port, http_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("INTAKEGUARD_")}
    env |= {
        "INTAKEGUARD_DATABASE_URL": database_url,
        "INTAKEGUARD_SECRET_KEY": SECRET_KEY,
        "INTAKEGUARD_RULES_DIR": str(RULES),
        "INTAKEGUARD_DNS_NAMESERVERS": dns_server.address,
        "INTAKEGUARD_DNS_TIMEOUT": "1",
        "INTAKEGUARD_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "INTAKEGUARD_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "INTAKEGUARD_INTAKE_RECIPIENTS": "@desk.example",
        "INTAKEGUARD_TRUSTED_RELAYS": "127.0.0.1",
        "INTAKEGUARD_LOG_LEVEL": "WARNING",
    }
    intakeguard = ServeProcess(env, tmp_path / "intakeguard.log", smtp_port)
    try:
        intakeguard.start()
        with PostfixInstance(
            postfix_root, main=relay_main(smtp_port), services=[RELAY_SERVICE]
        ) as postfix:
            feeder = Feeder(postfix, CRASH_MESSAGES, pause=0.08)
            feeder.start()

            def delivered() -> int:
                if feeder.error is not None:
                    raise feeder.error
                return postfix.log().count("status=sent")

            postfix.wait(lambda: delivered() >= CRASH_MESSAGES // 4, 30, "the first deliveries")
            intakeguard.kill()
            killed_after = delivered()
            intakeguard.start()
            feeder.join(timeout=60)
            assert not feeder.is_alive(), "the feeder did not finish"
            if feeder.error is not None:
                raise feeder.error
            postfix.wait_until_empty(60)
            log = postfix.log()
            deliveries = {queue_id: postfix.deliveries(queue_id) for queue_id in feeder.sent}
    finally:
        intakeguard.stop()

    # Postfix's side: each message was acknowledged once, with the id of a verdict.
    acknowledged: dict[str, str] = {}
    for queue_id, lines in deliveries.items():
        sent = [line for line in lines if "status=sent" in line]
        assert len(sent) == 1, lines
        acknowledged[recorded_id(sent[0])] = feeder.sent[queue_id]
    deferred = log.count("status=deferred")
    # Postfix logs "... while sending end of data -- message may be sent more than once"
    # when the connection dies after the dot: the receiver may have recorded it already.
    crash = (
        f"killed after {killed_after} deliveries; {deferred} deferrals, "
        f"{log.count('may be sent more than once')} lost after the end of data"
    )
    assert deferred > 0, f"the kill was not felt: {crash}"

    # The store's side: every message recorded exactly once, under the acknowledged id.
    rows = verdict_rows(database_url)
    counts = Counter(row.message_id for row in rows)
    twice = {message_id: n for message_id, n in counts.items() if n > 1}
    assert not twice, f"recorded more than once ({crash}): {twice}"
    assert set(counts) == set(feeder.sent.values())
    by_id = {row.id: row for row in rows}
    for verdict_id, message_id in acknowledged.items():
        assert verdict_id in by_id, f"250 for {message_id} with {verdict_id}, not in the store"
        assert by_id[verdict_id].message_id == message_id
    assert {row.envelope["client_ip"] for row in rows} == {CLIENT_IP}
