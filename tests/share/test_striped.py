"""share.striped: the contiguous acknowledged prefix, a failing stream's error, buffers released, bounded ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from share import errors
from share.striped import Acked, StripedSink


class _Lane:
    """Keeps what it was given; acknowledges when told (``auto``: at once)."""

    def __init__(self, *, auto: bool = True, fail_at: int | None = None, hang: threading.Event | None = None) -> None:
        self.auto = auto
        self.fail_at = fail_at
        self.hang = hang
        self.written: dict[int, bytes] = {}
        self.unacked: list[tuple[Acked, int, int]] = []
        self.finished = self.abandoned = False

    def write_at(self, offset: int, data: memoryview, acked: Acked) -> None:
        if self.hang is not None:
            self.hang.wait(5)
        if self.fail_at is not None and offset >= self.fail_at:
            raise errors.ConnectionLost("the link dropped")
        self.written[offset] = bytes(data)
        if self.auto:
            acked(offset + len(data), len(data))
        else:
            self.unacked.append((acked, offset + len(data), len(data)))

    def ack_all(self) -> None:
        for acked, end, length in self.unacked:
            acked(end, length)
        self.unacked.clear()

    def finish(self) -> None:
        self.ack_all()
        self.finished = True

    def abandon(self) -> None:
        self.abandoned = True


def _wait(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_stripes_go_round_the_streams_and_close_confirms_everything() -> None:
    lanes = [_Lane(), _Lane(), _Lane()]
    sink = StripedSink(lanes, 100, timeout=5)
    released: list[int] = []
    for number in range(7):
        sink.write(memoryview(bytes([number]) * 10), lambda number=number: released.append(number))
    sink.close()
    assert [sorted(lane.written) for lane in lanes] == [[100, 130, 160], [110, 140], [120, 150]]
    assert sorted(released) == list(range(7)) and sink.confirmed() == 170
    assert all(lane.finished for lane in lanes)


def test_confirmed_is_the_prefix_every_stream_acknowledged() -> None:
    slow, fast = _Lane(auto=False), _Lane()
    sink = StripedSink([slow, fast], 0, timeout=5)
    for _ in range(4):
        sink.write(memoryview(b"x" * 10))
    _wait(lambda: len(slow.unacked) == 2 and len(fast.written) == 2)
    assert sink.confirmed() == 0  # the second stream's stripes 10-20 and 30-40 are in, the first's are not
    slow.unacked.pop(0)[0](10, 10)
    assert sink.confirmed() == 20
    slow.ack_all()
    assert sink.confirmed() == 40
    sink.close()


def test_a_failing_stream_surfaces_on_the_next_write_and_releases_every_buffer() -> None:
    lanes = [_Lane(), _Lane(fail_at=10)]
    sink = StripedSink(lanes, 0, timeout=5)
    released: list[int] = []
    sink.write(memoryview(b"a" * 10), lambda: released.append(0))
    sink.write(memoryview(b"b" * 10), lambda: released.append(1))
    _wait(lambda: sink.error is not None)
    with pytest.raises(errors.ConnectionLost):
        sink.write(memoryview(b"c" * 10), lambda: released.append(2))
    assert sorted(released) == [0, 1, 2] and sink.confirmed() == 10
    sink.abandon()
    assert all(lane.abandoned for lane in lanes)


def test_close_raises_a_streams_failure_after_closing_the_others() -> None:
    lanes = [_Lane(), _Lane(fail_at=10)]
    sink = StripedSink(lanes, 0, timeout=5)
    sink.write(memoryview(b"a" * 10))
    sink.write(memoryview(b"b" * 10))
    with pytest.raises(errors.ConnectionLost):
        sink.close()


def test_a_stream_that_never_returns_is_given_up_within_the_bound() -> None:
    hang = threading.Event()
    sink = StripedSink([_Lane(), _Lane(hang=hang)], 0, timeout=0.2)
    sink.write(memoryview(b"a" * 10))
    sink.write(memoryview(b"b" * 10))
    started = time.monotonic()
    with pytest.raises(errors.TimedOut):
        sink.close()
    assert time.monotonic() - started < 3
    hang.set()
