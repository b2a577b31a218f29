"""A minimal QMP client (QEMU's JSON monitor) over TCP on 127.0.0.1, every wait bounded."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any


class QmpError(Exception):
    """The monitor did not answer, or answered with an error."""


class Qmp:
    def __init__(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection(("127.0.0.1", port), timeout=2.0)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise QmpError(f"QEMU's monitor on 127.0.0.1:{port} did not answer ({exc})") from exc
                time.sleep(0.1)
        self._sock.settimeout(timeout)
        self._file = self._sock.makefile("rwb")
        self._read()  # the greeting
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        try:
            line = self._file.readline()
        except OSError as exc:
            raise QmpError(f"QEMU's monitor stopped answering ({exc})") from exc
        if not line:
            raise QmpError("QEMU's monitor closed the connection")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def execute(self, command: str, **arguments: Any) -> Any:
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        try:
            self._file.write(json.dumps(message).encode() + b"\n")
            self._file.flush()
        except OSError as exc:
            raise QmpError(f"QEMU's monitor stopped answering ({exc})") from exc
        for _ in range(1000):  # events may come first
            reply = self._read()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise QmpError(f"{command}: {reply['error'].get('desc', reply['error'])}")
        raise QmpError(f"{command}: no answer among the monitor's events")

    def human(self, command_line: str) -> str:
        return str(self.execute("human-monitor-command", **{"command-line": command_line}))

    def close(self) -> None:
        for closing in (self._file.close, self._sock.close):
            with contextlib.suppress(OSError):
                closing()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
