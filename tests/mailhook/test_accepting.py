"""Taking connections from a socket sibling workers share (mailhook.accepting), two
acceptors in one process standing for two workers."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator

import pytest

from mailhook.accepting import ABSENT, PAUSE, SessionBoard, SharedAcceptor


class _Counting(asyncio.Protocol):
    """Counts the connections made through it in ``held``."""

    def __init__(self, held: list[int]) -> None:
        self.held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.held[0] += 1


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock
    sock.close()


async def _connect_one_by_one(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
        # Until the connection has been taken and its session begun.
        await asyncio.sleep(PAUSE * 2)
    return writers


def _acceptor(sock: socket.socket, board: SessionBoard | None, worker: int) -> list[int]:
    held = [0]
    seat = board.seat("smtp", worker) if board is not None else None
    SharedAcceptor(sock.dup(), lambda: _Counting(held), lambda: held[0], seat)
    return held


async def test_the_worker_holding_fewer_sessions_takes_the_next_connection(
    listening: socket.socket,
) -> None:
    board = SessionBoard.create(2)
    first, second = _acceptor(listening, board, 1), _acceptor(listening, board, 2)
    writers = await _connect_one_by_one(listening.getsockname()[1], 8)
    assert (first[0], second[0]) == (4, 4)
    # Each posted what it holds; the milter's row is apart.
    assert sorted(board.seat("smtp", 1).counts()) == [4, 4]
    assert board.seat("milter", 1).counts() == [ABSENT, ABSENT]
    for writer in writers:
        writer.close()


async def test_without_a_board_one_worker_may_take_them_all(listening: socket.socket) -> None:
    # What the board is for: both woken, the first woken takes each connection.
    first, second = _acceptor(listening, None, 1), _acceptor(listening, None, 2)
    writers = await _connect_one_by_one(listening.getsockname()[1], 6)
    assert first[0] + second[0] == 6
    assert min(first[0], second[0]) == 0
    for writer in writers:
        writer.close()


async def test_a_sibling_holding_fewer_that_never_takes_leaves_no_client_waiting(
    listening: socket.socket,
) -> None:
    board = SessionBoard.create(2)
    # Worker 2 posted nothing held and serves nobody (busy, stuck or dead).
    alone = _acceptor(listening, board, 1)
    writers = await _connect_one_by_one(listening.getsockname()[1], 3)
    assert alone[0] == 3
    for writer in writers:
        writer.close()


def test_a_worker_reads_the_board_its_supervisor_made() -> None:
    board = SessionBoard.create(3)
    inherited = SessionBoard.attach(board.fd, 3)
    # Nobody listens yet: nobody is waited for.
    assert inherited.seat("milter", 3).counts() == [ABSENT, ABSENT, ABSENT]
    board.seat("milter", 2).post(7)
    board.seat("milter", 1).post(0)
    board.seat("milter", 3).post(0)
    assert inherited.seat("milter", 3).counts() == [0, 7, 0]
    assert inherited.seat("milter", 1).others_hold_fewer(1)
    assert not inherited.seat("milter", 2).others_hold_fewer(0)


def test_a_board_without_memfd_is_a_temporary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "memfd_create")
    board = SessionBoard.create(2)
    board.seat("smtp", 1).post(3)
    assert SessionBoard.attach(board.fd, 2).seat("smtp", 2).counts() == [3, ABSENT]


async def test_a_closed_or_vacated_worker_is_waited_for_by_nobody(
    listening: socket.socket,
) -> None:
    board = SessionBoard.create(3)
    for worker in (1, 2, 3):
        board.seat("smtp", worker).post(0)
        board.seat("milter", worker).post(0)
    seat = board.seat("smtp", 1)
    acceptor = SharedAcceptor(listening.dup(), asyncio.Protocol, lambda: 0, seat)
    acceptor.close()
    board.vacate(2)
    assert board.seat("smtp", 3).counts() == [ABSENT, ABSENT, 0]
    assert board.seat("milter", 3).counts() == [0, ABSENT, 0]
    assert not board.seat("smtp", 3).others_hold_fewer(5)
