"""A private Postfix instance on loopback for the tests: own config, queue and mail log."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

# Debian keeps the Postfix commands in /usr/sbin, which a non-root PATH often lacks.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
POSTFIX = shutil.which("postfix", path=_SEARCH_PATH)
POSTQUEUE = shutil.which("postqueue", path=_SEARCH_PATH)
POSTCONF = shutil.which("postconf", path=_SEARCH_PATH)
# The master.cf the package installed; ours is derived from it (services, not settings).
MASTER_CF_CANDIDATES = (Path("/etc/postfix/master.cf"), Path("/usr/share/postfix/master.cf.dist"))
MAIL_OWNER = "postfix"
HOSTNAME = "postfix.intakeguard.test"
INTAKEGUARD = Path(sys.executable).parent / "intakeguard"

T = TypeVar("T")


def postfix_unavailable() -> str | None:
    """Why a private Postfix cannot run here, or None when it can."""
    if POSTFIX is None or POSTQUEUE is None or POSTCONF is None:
        return "Postfix is not installed (no postfix, postqueue or postconf command)"
    if not any(path.is_file() for path in MASTER_CF_CANDIDATES):
        looked = ", ".join(str(path) for path in MASTER_CF_CANDIDATES)
        return f"Postfix's master.cf is missing (looked for {looked})"
    if os.geteuid() != 0:
        return "starting a Postfix instance needs root (`postfix start`)"
    try:
        pwd.getpwnam(MAIL_OWNER)
    except KeyError:
        return f"there is no {MAIL_OWNER!r} user (is Postfix installed?)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll ``check`` until it returns neither None nor False; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class PostfixError(RuntimeError):
    """Postfix refused to start or a command failed; the message carries the mail log."""


class PostfixInstance:
    """A Postfix instance of its own under ``root``, listening on 127.0.0.1:``smtp_port``.

    ``root`` must be reachable by the ``postfix`` user (and by the user of any pipe
    transport): Postfix's daemons drop root and chdir into the queue directory.
    ``main`` adds or overrides main.cf settings; ``services`` are extra master.cf
    entries (one string each, continuation lines indented).
    """

    def __init__(
        self,
        root: Path,
        main: Mapping[str, str] | None = None,
        services: Iterable[str] = (),
    ) -> None:
        self.root = root
        self.config_dir = root / "etc"
        self.queue_dir = root / "queue"
        self.data_dir = root / "data"
        self.maillog = root / "maillog"
        self.smtp_port = free_port()
        self.main: dict[str, str] = {**self._defaults(), **(main or {})}
        self.services = list(services)
        self.master_pid: int | None = None

    def _defaults(self) -> dict[str, str]:
        return {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.data_dir),
            # No syslog here: Postfix logs to this file only (through its postlogd).
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.root),
            "myhostname": HOSTNAME,
            "mydomain": "intakeguard.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "relay_domains": "desk.example",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            # Loopback only: no DNS for client names, and mail for anywhere but the
            # desk (bounces to the test senders included) goes nowhere.
            "smtpd_peername_lookup": "no",
            "smtp_dns_support_level": "disabled",
            "default_transport": "error:this test instance delivers only to desk.example",
            "relay_transport": "error:this test instance delivers only to desk.example",
            # Retry deferred mail within seconds, not minutes.
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "2s",
        }

    # -- set-up ------------------------------------------------------------------

    def write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.queue_dir.mkdir(exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        owner = pwd.getpwnam(MAIL_OWNER)
        os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)
        self.data_dir.chmod(0o700)
        main_cf = "".join(f"{name} = {value}\n" for name, value in self.main.items())
        (self.config_dir / "main.cf").write_text(main_cf)
        (self.config_dir / "master.cf").write_text(self._master_cf())

    def _master_cf(self) -> str:
        source = next(path for path in MASTER_CF_CANDIDATES if path.is_file())
        entries: list[list[str]] = []
        for line in source.read_text().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0].isspace():
                if entries:
                    entries[-1].append(line)
                continue
            entries.append([line])
        out: list[str] = []
        for entry in entries:
            fields = entry[0].split()
            service, kind = fields[0], fields[1]
            if kind == "inet":
                if service != "smtp":
                    continue  # submission, smtps...: nothing of ours listens there
                fields[0] = f"127.0.0.1:{self.smtp_port}"
            if len(fields) >= 8:
                fields[4] = "n"  # no chroot: the instance lives in a temp directory
            out.append("  ".join(fields[:8]) + (" " + " ".join(fields[8:]) if fields[8:] else ""))
            out.extend(entry[1:])
        out.extend(self.services)
        return "\n".join(out) + "\n"

    def start(self) -> PostfixInstance:
        self.write_config()
        done = self._postfix("start", check=False)
        if done.returncode != 0:
            raise PostfixError(
                f"`postfix -c {self.config_dir} start` exited {done.returncode}:\n"
                f"{done.stdout}{done.stderr}\n--- maillog (tail) ---\n{self.log_tail()}"
            )
        try:
            wait_for(lambda: listening(self.smtp_port), 15, f"Postfix on port {self.smtp_port}")
        except TimeoutError as exc:
            raise PostfixError(f"{exc}\n--- maillog (tail) ---\n{self.log_tail()}") from None
        self.master_pid = self._read_master_pid()
        return self

    def __enter__(self) -> PostfixInstance:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        """``postfix stop``, then SIGKILL whatever of this instance is still running."""
        if (self.config_dir / "main.cf").exists():
            self._postfix("stop", check=False)
        master = self.master_pid or self._read_master_pid()
        if master is not None:
            with contextlib.suppress(TimeoutError):
                wait_for(lambda: not _alive(master), 10, "the Postfix master to stop")
        for pid in self._processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.master_pid = None

    def reload(self) -> None:
        self.write_config()
        self._postfix("reload")

    # -- commands and state -------------------------------------------------------

    def _postfix(self, action: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert POSTFIX is not None
        done = subprocess.run(
            [POSTFIX, "-c", str(self.config_dir), action],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and done.returncode != 0:
            raise PostfixError(
                f"`postfix {action}` exited {done.returncode}: {done.stdout}{done.stderr}\n"
                f"--- maillog (tail) ---\n{self.log_tail()}"
            )
        return done

    def postqueue(self, *args: str) -> str:
        assert POSTQUEUE is not None
        done = subprocess.run(
            [POSTQUEUE, "-c", str(self.config_dir), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise PostfixError(
                f"`postqueue {' '.join(args)}` exited {done.returncode}: {done.stderr}"
            )
        return done.stdout

    def queue(self) -> list[dict[str, Any]]:
        """The queued messages, one dict each (``postqueue -j``: queue_name, queue_id...)."""
        return [json.loads(line) for line in self.postqueue("-j").splitlines() if line.strip()]

    def listing(self) -> str:
        """``postqueue -p``, for messages to people."""
        return self.postqueue("-p")

    def flush(self) -> None:
        self.postqueue("-f")

    def log(self) -> str:
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:]) or "(the maillog is empty)"

    def deliveries(self, queue_id: str) -> list[str]:
        """The mail log's delivery lines (``status=...``) for ``queue_id``."""
        return [
            line
            for line in self.log().splitlines()
            if f" {queue_id}: " in line and " status=" in line
        ]

    def wait(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        """``wait_for`` that shows Postfix's queue and mail log when it gives up."""
        try:
            return wait_for(check, timeout, what, interval=0.25)
        except TimeoutError as exc:
            raise AssertionError(
                f"{exc}\n--- queue ---\n{self.listing()}--- maillog (tail) ---\n{self.log_tail()}"
            ) from None

    def wait_for_status(self, queue_id: str, status: str, timeout: float = 30) -> str:
        """The first delivery line of ``queue_id`` with ``status=<status>``."""

        def found() -> str | None:
            return next((d for d in self.deliveries(queue_id) if f"status={status}" in d), None)

        return self.wait(found, timeout, f"{queue_id} status={status}")

    def wait_until_empty(self, timeout: float) -> None:
        self.wait(lambda: not self.queue(), timeout, "Postfix's queue to empty")

    def send(
        self,
        raw: bytes,
        sender: str,
        recipients: Iterable[str],
        *,
        source: str = "127.0.0.5",
        helo: str = "mx.acme.pl",
    ) -> str:
        """Hand ``raw`` to this Postfix over SMTP from ``source``; return its queue id."""
        with smtplib.SMTP(
            "127.0.0.1", self.smtp_port, local_hostname=helo, source_address=(source, 0), timeout=30
        ) as client:
            return submit(client, raw, sender, recipients)

    def _read_master_pid(self) -> int | None:
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _processes(self) -> list[int]:
        """Processes working in this instance's directory (master, daemons, pipe commands)."""
        found = []
        root = str(self.root.resolve())
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd == root or cwd.startswith(root + os.sep):
                found.append(int(entry.name))
        return found


def submit(client: smtplib.SMTP, raw: bytes, sender: str, recipients: Iterable[str]) -> str:
    """One transaction on an open session to Postfix; the queue id from its 250 reply."""
    # smtplib's mail() sends no EHLO of its own; without one Postfix has no HELO to forward.
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(sender)
    assert code == 250, reply
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        assert code == 250, reply
    code, reply = client.data(raw)
    # "250 2.0.0 Ok: queued as 4Xyz12abc"
    assert code == 250 and b"queued as " in reply, reply
    return reply.decode().rpartition("queued as ")[2].strip()


def intakeguard_command(user: str, workdir: Path) -> list[str]:
    """How ``user`` runs this checkout's ``intakeguard`` console script.

    Usually the script itself. When ``user`` cannot reach our interpreter (a Python
    built under root's home, which is private), a venv is made in ``workdir`` on the
    system's Python of the same version that loads our site-packages: the same code,
    entry point and dependencies, run by an interpreter the user can execute.
    """
    if _runs_as(user, [str(INTAKEGUARD), "--help"]):
        return [str(INTAKEGUARD)]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system_python = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system_python is None:
        raise PostfixError(
            f"{user!r} cannot run {INTAKEGUARD} and there is no system {version} to run it with"
        )
    venv = workdir / "venv"
    subprocess.run(
        [system_python, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    ours = sysconfig.get_paths()["purelib"]
    (shim_site,) = (venv / "lib").glob("python*/site-packages")
    (shim_site / "intakeguard-site.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    script = venv / "bin" / "intakeguard"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\n"
        "from app.cli.main import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    workdir.chmod(0o755)
    if not _runs_as(user, [str(script), "--help"]):
        raise PostfixError(f"{user!r} can run neither {INTAKEGUARD} nor {script}")
    return [str(script)]


def _runs_as(user: str, argv: list[str]) -> bool:
    account = pwd.getpwnam(user)
    try:
        done = subprocess.run(
            argv,
            user=account.pw_uid,
            group=account.pw_gid,
            extra_groups=[],
            cwd="/",
            capture_output=True,
            timeout=60,
            check=False,
        )
    except PermissionError:
        return False
    return done.returncode == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
