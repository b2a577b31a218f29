"""A TCP proxy on 127.0.0.1 that cuts (or, with ``stall=True``, silences) its first connection after N client
bytes: the faults (a dropped link, a link that goes quiet with no reset while the server keeps the old session)
that a real server will not produce on demand. Later connections pass through untouched. With ``skip=K`` the
first K connections pass untouched and the cuts start with the next (one stream of several is cut while the
others run). With ``later_port`` every connection after the first goes to another server. With ``rate`` every
connection carries at most that many bytes a second each way (a link where one
connection is the limit: per-flow shaping, a long fat pipe), for the benchmarks."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class CuttingProxy:
    def __init__(
        self,
        upstream_port: int,
        cut_after: int,
        cuts: int = 1,
        *,
        stall: bool = False,
        down_after_cut: float = 0.0,
        skip: int = 0,
        rate: float | None = None,
        later_port: int | None = None,
    ) -> None:
        self.later_port = later_port  # connections after the first go there (a stream reaching another machine)
        self.skip = skip
        self.rate = rate
        self.client_bytes: list[int] = []  # per connection, in order: the bytes the client sent through
        self.upstream_port = upstream_port
        self.down_after_cut = down_after_cut  # after a cut, refuse connections this long: a server restarting
        self.down_until = 0.0
        self.stall = stall  # stop forwarding both ways without closing: both ends keep a silent, open connection
        self.stalled = threading.Event()
        self.cut_after = cut_after
        self.cuts_left = cuts
        self.cuts_done = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._silenced: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            if time.monotonic() < self.down_until:
                client.close()  # the service is down: the connection ends at once
                continue
            port = self.later_port if self.later_port is not None and self.client_bytes else self.upstream_port
            server = socket.create_connection(("127.0.0.1", port), timeout=10)
            server.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
                cut = self.cut_after if self.cuts_left > 0 and self.skip <= 0 else None
                self.skip -= 1
                if cut is not None:
                    self.cuts_left -= 1
                number = len(self.client_bytes)
                self.client_bytes.append(0)
            silent = threading.Event()
            threading.Thread(target=self._pump, args=(client, server, cut, silent, number), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None, silent), daemon=True).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, cut: int | None, silent: threading.Event, number: int = -1
    ) -> None:
        passed = 0
        ready = time.monotonic()  # when the bytes sent so far may have left at ``rate``
        try:
            while not self._stop.is_set():
                data = src.recv(64 * 1024 if self.rate else 256 * 1024)
                if not data:
                    break
                if self.rate:  # a token bucket: bursts of at most 50 ms' worth, idle time is not banked beyond it
                    now = time.monotonic()
                    ready = max(ready, now - 0.05) + len(data) / self.rate
                    time.sleep(max(0.0, ready - now))
                if silent.is_set():
                    continue  # stalled: swallow everything, answer nothing, close nothing
                if cut is not None and passed + len(data) > cut:
                    dst.sendall(data[: cut - passed])
                    self.cuts_done += 1
                    self.down_until = time.monotonic() + self.down_after_cut
                    if self.stall:
                        silent.set()
                        self.stalled.set()
                        with self._lock:
                            self._silenced += [src, dst]
                        continue
                    break
                dst.sendall(data)
                passed += len(data)
                if number >= 0:
                    self.client_bytes[number] = passed
        except OSError:
            pass
        finally:
            # A stalled link carries nothing, not even the client's goodbye: the server keeps its session.
            if not silent.is_set():
                for sock in (src, dst):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

    def release(self) -> None:
        """Close the stalled connections, as the server's TCP keepalive finally would; others stay."""
        with self._lock:
            for sock in self._silenced:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()


class SilentServer:
    """Accepts TCP connections and never answers: a hung server, which a real one will not play on demand."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.listener.close()
