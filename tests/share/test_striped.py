"""share.striped: the contiguous acknowledged prefix, a failing stream's error, buffers released, bounded ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from share import errors
from share.striped import Acked, StripedSink, StripedSource


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
        if self.auto:
            acked(offset + len(data), len(data))
        else:
            self.unacked.append((acked, offset + len(data), len(data)))
        self.written[offset] = bytes(data)  # last: a test seeing it may count on the acknowledgement

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
    _wait(lambda: sink.error is not None and len(released) == 2)  # the first stream's stripe too, on its thread
    with pytest.raises(errors.ConnectionLost):
        sink.write(memoryview(b"c" * 10), lambda: released.append(2))
    assert sorted(released) == [0, 1, 2]
    # The first stream's stripe counts if it was written before the failure was seen (then no more are).
    assert sink.confirmed() == (10 if lanes[0].written else 0) and not lanes[1].written
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


class _ReadLane:
    def __init__(self, data: bytes, *, delay: float = 0.0, fail: bool = False) -> None:
        self.data, self.delay, self.fail = data, delay, fail
        self.offsets: list[int] = []
        self.abandoned = False

    def read_at(self, offset: int, view: memoryview) -> int:
        time.sleep(self.delay)
        if self.fail:
            raise errors.ConnectionLost("the link dropped")
        self.offsets.append(offset)
        piece = self.data[offset : offset + len(view)]
        view[: len(piece)] = piece
        return len(piece)

    def abandon(self) -> None:
        self.abandoned = True


def test_a_striped_read_hands_the_stripes_out_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StripedSource, "STRIPE", 1000)
    data = bytes(range(256)) * 40  # 10,240 bytes: ten whole stripes and a short one
    lanes = [_ReadLane(data, delay=0.01), _ReadLane(data), _ReadLane(data, delay=0.005)]
    source = StripedSource(lanes, 240, len(data), timeout=5)
    assert b"".join(bytes(chunk) for chunk in source.chunks()) == data[240:]
    assert lanes[0].offsets == [240, 3240, 6240, 9240] and lanes[1].offsets == [1240, 4240, 7240]
    source.close()
    assert all(lane.abandoned for lane in lanes)


def test_a_striped_read_raises_a_streams_failure_and_stops_at_a_short_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StripedSource, "STRIPE", 1000)
    data = b"x" * 5000
    failing = StripedSource([_ReadLane(data), _ReadLane(data, fail=True)], 0, len(data), timeout=5)
    with pytest.raises(errors.ConnectionLost):
        list(failing.chunks())
    failing.close()
    shrunk = StripedSource([_ReadLane(data[:2500]), _ReadLane(data[:2500])], 0, len(data), timeout=5)
    assert sum(len(chunk) for chunk in shrunk.chunks()) == 2500
    buffer = memoryview(bytearray(4000))
    again = StripedSource([_ReadLane(data), _ReadLane(data)], 0, len(data), timeout=5)
    assert again.readinto(buffer) == 4000 and again.readinto(buffer) == 1000 and again.readinto(buffer) == 0
