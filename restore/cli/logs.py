"""What the libraries log. smbprotocol logs its receive thread's death with a traceback and paramiko its transport
thread's: with no handler, Python's last-resort handler prints them on the terminal. bmr reports errors itself."""

from __future__ import annotations

import logging

LIBRARY_LOGGERS = ("smbprotocol", "smbclient", "spnego", "paramiko")


def quiet_library_loggers(handler: logging.Handler | None = None) -> None:
    """Keep the libraries' log records off the terminal. ``handler`` (a --log-file, say) receives them instead."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        for old in [h for h in logger.handlers if isinstance(h, logging.NullHandler)]:
            logger.removeHandler(old)
        logger.addHandler(handler if handler is not None else logging.NullHandler())
