"""What a worker process of ``serve --workers N`` was told by its supervisor.

Shared by the supervisor that starts workers (app.server.supervisor) and the serving
code each worker runs (app.server.serving); neither imports the other.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass

from mailhook.accepting import Seat, SessionBoard

WORKER_ENV = "_INTAKEGUARD_WORKER"


@dataclass(frozen=True)
class WorkerRole:
    """What a worker process was told by its supervisor."""

    number: int
    count: int
    parent: int
    http: socket.socket | None
    smtp: socket.socket | None
    milter: socket.socket | None
    metrics: socket.socket | None
    # How many sessions each worker holds at each door (mailhook.accepting).
    board: SessionBoard | None = None

    def seat(self, door: str) -> Seat | None:
        """This worker's place in ``door``'s row of the board."""
        return self.board.seat(door, self.number) if self.board is not None else None

    @property
    def primary(self) -> bool:
        """Worker 1 also runs the background work (outbox, retention)."""
        return self.number == 1

    @classmethod
    def from_environment(cls) -> WorkerRole | None:
        """This process's role, or None when it is not a worker."""
        spec = os.environ.pop(WORKER_ENV, None)
        if not spec:
            return None
        data = json.loads(spec)
        fds: dict[str, int] = data["fds"]

        def inherited(name: str) -> socket.socket | None:
            return socket.socket(fileno=fds[name]) if name in fds else None

        return cls(
            number=int(data["number"]),
            count=int(data["count"]),
            parent=os.getppid(),
            http=inherited("http"),
            smtp=inherited("smtp"),
            milter=inherited("milter"),
            metrics=inherited("metrics"),
            board=SessionBoard.attach(fds["board"], int(data["count"])) if "board" in fds else None,
        )


def worker_number() -> int | None:
    """The number of this worker process (for its log lines), or None."""
    spec = os.environ.get(WORKER_ENV)
    return int(json.loads(spec)["number"]) if spec else None
