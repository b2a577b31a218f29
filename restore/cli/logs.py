"""How much a command says, and its record: -q, -v and --log-file FILE (JSON lines).

Libraries (smbprotocol, spnego, paramiko) log through :mod:`logging`; left alone, Python prints their warnings on
stderr. Here every record goes to the log file when there is one, and never to the terminal. bmr's own events
(start, each file, retries, errors, the summary) are records of the ``bmr`` logger with their fields attached.
Passwords are never in a record: they live in :class:`share.credentials.Secret`, which refuses to print.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from restore.cli.interrupts import catching_interrupts
from restore.cli.paths import output_file
from share.errors import BmrError
from share.location import redact

LIBRARIES = ("smbprotocol", "smbclient", "spnego", "paramiko")


@dataclass
class Verbosity:
    quiet: bool = False  # only the result (and errors)
    verbose: bool = False  # also the raw library error behind a message


SETTINGS = Verbosity()
log = logging.getLogger("bmr")
# A handler of its own: an error reported before a command's logging_to (a usage error click raises while parsing)
# must not reach Python's last-resort handler, which would print the bare event name ("error") on stderr.
log.addHandler(logging.NullHandler())


class InternalError(BmrError):
    """A fault in bmr itself: rerun with --log-file FILE and report the record (it holds the traceback)."""


def record(event: str, **fields: Any) -> None:
    """One bmr event in the log file (a no-op without one)."""
    log.info(event, extra={"bmr_fields": fields})


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, event and bmr's fields (or a library's message)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(getattr(record, "bmr_fields", {}))
        if record.exc_info and record.exc_info[1] is not None:
            data["raw"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            data["traceback"] = self.formatException(record.exc_info)  # only bugs are logged with one
        return json.dumps(data, default=str)


def raw_error(exc: BaseException) -> str:
    """The library's own words behind one of our errors: what the normal message leaves out."""
    chain: list[str] = []
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 4:
        chain.append(f"{type(cause).__module__}.{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    return " <- ".join(chain)


@contextmanager
def logging_to(log_file: Path | None, *, quiet: bool = False, verbose: bool = False) -> Iterator[None]:
    """Route every record to ``log_file`` (or nowhere) for the time of one command; nothing to the terminal."""
    root = logging.getLogger()
    handler: logging.Handler
    if log_file is not None:
        handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
        handler.setFormatter(JsonLines())
    else:
        handler = logging.NullHandler()  # with a handler in place, Python's last-resort printer stays silent
    saved = root.level, {name: logging.getLogger(name).level for name in LIBRARIES}, log.level
    root.addHandler(handler)
    root.setLevel(logging.INFO if log_file is not None else logging.WARNING)
    log.setLevel(logging.DEBUG if log_file is not None else logging.WARNING)
    for name in LIBRARIES:  # their INFO says what was negotiated; DEBUG would dump every packet
        logging.getLogger(name).setLevel(logging.INFO)
    SETTINGS.quiet, SETTINGS.verbose = quiet, verbose
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
        log.setLevel(saved[2])
        SETTINGS.quiet, SETTINGS.verbose = False, False


Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the result (and errors): no progress.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Also print the raw library error behind a message.")]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        metavar="FILE",
        help="Append a JSON-lines record (start, files, retries, errors, summary; library messages) here.",
        dir_okay=False,
        writable=True,
    ),
]


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value if value is None or isinstance(value, bool | int | float) else str(value)


def with_logging(name: str, command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command -q, -v and --log-file, and run it with its records routed (see :func:`logging_to`)."""
    signature = inspect.signature(command, eval_str=True)
    own = list(signature.parameters.values())
    extra = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
        for n, a, d in (("quiet", Quiet, False), ("verbose", Verbose, False), ("log_file", LogFile, None))
    ]

    @functools.wraps(command)
    def run(*, quiet: bool, verbose: bool, log_file: Path | None, **kwargs: Any) -> Any:
        if log_file is not None:
            output_file(log_file, "--log-file")
        with logging_to(log_file, quiet=quiet, verbose=verbose), catching_interrupts():
            record("start", command=name, options={k: _shown(v) for k, v in kwargs.items()})
            try:
                return command(**kwargs)
            except typer.Exit as exc:
                record("end", command=name, exit_code=exc.exit_code)
                raise
            except BmrError as exc:  # refused before its work started; the group prints it
                log.error("error", extra={"bmr_fields": {"type": type(exc).__name__, "message": exc.message}})
                raise
            except Exception as exc:  # a bug: a message and the traceback in the log, not a traceback on screen
                log.exception("internal error", extra={"bmr_fields": {"command": name}})
                raise InternalError(f"bmr {name} stopped on an unexpected {type(exc).__name__}: {exc}") from exc

    run.__dict__["__signature__"] = signature.replace(parameters=own + extra)
    run.__annotations__ = {p.name: p.annotation for p in own + extra}
    return run


def quiet_library_loggers() -> None:
    """Keep the libraries' records off the terminal at all times: a handler of their own (a NullHandler) means
    Python's last-resort handler never prints their tracebacks; records still propagate to a --log-file."""
    for name in LIBRARIES:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
