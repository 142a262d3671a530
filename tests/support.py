"""Helpers shared by the tests: a live HTTP server and message builders."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path

import dkim
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
RULES = REPO / "rules"
SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"
# The instruction kinds of the default catalogue (rules/), in catalogue order.
DEFAULT_KINDS = (
    "inquiry",
    "invoice_duplicate",
    "contact_change",
    "dns_change",
    "cancellation",
    "transfer_out",
    "holder_change",
)
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
# One TLS context for every test's HTTP client: without it httpx builds one per client and
# loads the CA bundle each time, tens of milliseconds for each of the thousands of clients a
# run opens. The tests speak plain HTTP on loopback; no handshake ever uses it.
TLS = ssl.create_default_context()


def free_port() -> int:
    """A loopback TCP port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings of a test app on ``database_url`` with the test secrets and default rules."""
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "admin_token": ADMIN_TOKEN,
        "rules_dir": RULES,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class LiveServer:
    """The app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def make_message(
    sender: str = "Jan Kowalski <jan@acme.pl>",
    subject: str = "Pytanie o domene acme.pl",
    body: str = "Dzien dobry, mam pytanie o domene acme.pl.\n",
    to: str = "support@hosting.example",
    **headers: str,
) -> bytes:
    """A well-formed message; keyword arguments add headers (underscores become hyphens)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="acme.pl")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes(policy=SMTP)


def signed_by_acme(raw: bytes) -> bytes:
    """``raw`` with a DKIM signature of acme.pl (selector rsa2048, fixtures/keys) on top,
    over what a signer such as OpenDKIM signs by default (the fields a reader is shown and
    those the body is read by: signed-headers)."""
    signature = dkim.sign(
        raw,
        b"rsa2048",
        b"acme.pl",
        (FIXTURES / "keys" / "rsa2048.pem").read_bytes(),
        include_headers=[
            b"from",
            b"to",
            b"subject",
            b"date",
            b"message-id",
            b"mime-version",
            b"content-type",
            b"content-transfer-encoding",
        ],
    )
    return signature + raw


@contextmanager
def scratch_database(
    request: pytest.FixtureRequest, sqlite_path: Path, prefix: str
) -> Iterator[str]:
    """A database of its own on the backend ``request.param`` names: a SQLite file at
    ``sqlite_path``, or a PostgreSQL database named after ``prefix``, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{sqlite_path}"
        return
    session_url = make_url(request.getfixturevalue("postgresql_url"))
    server = create_engine(session_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield session_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
