"""Logging to a private file, never to stdout, and without message text unless debug is on."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import IO, Any

from sleepchat.errors import mask_secrets

LOGGER_NAME = "sleepchat"
MAX_LOG_BYTES = 1_000_000  # a log must not grow without bound on a long-lived install
LOG_BACKUPS = 2
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Creates every log file (also after rotation) readable by the owner only. When the log
    cannot be written (a full disk), says so once and stops logging: logging's own handling
    prints a traceback on every call."""

    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        exc = sys.exc_info()[1]
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        print(
            f"sleepchat: warning: cannot write the log file {self.baseFilename} ({reason}); "
            "logging stops — free some space, or set log_file / --log-file elsewhere",
            file=sys.stderr,
            flush=True,
        )

    def _open(self) -> IO[Any]:  # type: ignore[override]
        def opener(path: str, flags: int) -> int:
            fd = os.open(path, flags, 0o600)
            os.fchmod(fd, 0o600)  # an older file may have been created with looser bits
            return fd

        return open(self.baseFilename, self.mode, encoding=self.encoding, opener=opener)


class MaskSecrets(logging.Filter):
    """Credentials never reach the log: the message, its arguments, a traceback (an HTTP
    library's exception quotes the URL, password and all) and stack info are masked as the error
    root masks its messages."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = mask_secrets(record.getMessage()), None
        except Exception:  # a bad format string: keep the record, masked as it is
            record.msg, record.args = mask_secrets(str(record.msg)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def setup_logging(log_file: Path, debug: bool) -> None:
    """Send the ``sleepchat`` logger to ``log_file`` (folder 0700, file 0600).

    Nothing goes to stdout or stderr; if the file cannot be opened, one warning is printed on
    stderr and the program runs on without a log.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    # Not to the root logger (a library may have configured it for the console), and never to
    # logging's last-resort stderr handler, which would scribble over the TUI.
    logger.propagate = False
    try:
        created = not log_file.parent.exists()
        log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if created:
            os.chmod(log_file.parent, 0o700)
        handler = _PrivateRotatingFileHandler(
            log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        print(
            f"sleepchat: warning: cannot write the log file {log_file} ({reason}); "
            "continuing without a log — set log_file or --log-file to a writable path",
            file=sys.stderr,
            flush=True,
        )
        logger.addHandler(logging.NullHandler())
        return
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(MaskSecrets())
    logger.addHandler(handler)


def redact(text: str, debug: bool) -> str:
    """``text`` itself in debug mode, else only its size (``<37 chars>``): logs hold no content."""
    return text if debug else f"<{len(text)} chars>"
