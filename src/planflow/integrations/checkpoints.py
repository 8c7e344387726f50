"""Signed audit checkpoints leave the database: settings, the publish file, the auditor's e-mail.

A checkpoint kept only in the database protects nothing against whoever can
rewrite the database. So each signed checkpoint (``planflow.core.checkpoints``)
also goes out:

* to the publish file (``PLANFLOW_CHECKPOINT_FILE``), one JSON line each,
  appended in order. ``publish_to_file`` brings the file up to the database:
  it appends every stored checkpoint after the file's last line, each only
  if it is signed by this key and links to the line before. Any scheduler
  (or ``planflow audit publish``) may run it: an exclusive lock on the file
  keeps two writers on one host apart, and each host's file ends up
  complete, whichever scheduler made the checkpoints. Put the file on
  storage the database's administrators cannot write, or copy it there.
* to an auditor's mailbox (``PLANFLOW_CHECKPOINT_EMAIL``), one e-mail per
  checkpoint through the SMTP settings of the outbox. A key per checkpoint
  in ``applied_effect`` lets one sender at a time have it
  (``storage.signed_checkpoints.take_mail``); delivery is at least once,
  with a stable ``Message-ID`` per checkpoint.

Webhooks are not built yet (another issue); they would be a third channel here.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import IO

from planflow.core.audit_chain import GENESIS
from planflow.core.checkpoints import Signed, parse_line
from planflow.errors import ValidationError
from planflow.integrations.mail.messages import Rendered, compose
from planflow.integrations.mail.recipients import domain_of
from planflow.integrations.mail.report import OutboxReport
from planflow.integrations.mail.settings import SmtpSettings, parse_address
from planflow.integrations.mail.transport import MailTransport, SendError
from planflow.integrations.signing import KEY_ENV, Verifier, key_path_from_env
from planflow.storage import signed_checkpoints as sc
from planflow.storage.db import Database

log = logging.getLogger(__name__)

MINUTES_ENV = "PLANFLOW_CHECKPOINT_MINUTES"
FILE_ENV = "PLANFLOW_CHECKPOINT_FILE"
EMAIL_ENV = "PLANFLOW_CHECKPOINT_EMAIL"
DEFAULT_MINUTES = 60
#: How long a sender holds a checkpoint's e-mail before another run may try it again.
MAIL_HOLD = timedelta(minutes=15)


@dataclass(frozen=True)
class CheckpointSettings:
    #: The signing key file; None: nothing is signed.
    key_path: Path | None = None
    #: Minutes between automatic checkpoints; 0: only by hand.
    minutes: int = DEFAULT_MINUTES
    file: Path | None = None
    email: Address | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CheckpointSettings:
        values = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        raw = get(MINUTES_ENV)
        if raw is None:
            minutes = DEFAULT_MINUTES
        elif raw.isdigit() and int(raw) <= 10_080:
            minutes = int(raw)
        else:
            raise ValidationError(
                f"{MINUTES_ENV}={raw!r}: give minutes from 1 to 10080, or 0 for none"
            )
        email = None
        if (text := get(EMAIL_ENV)) is not None:
            email = parse_address(text)
            if email is None:
                raise ValidationError(f"{EMAIL_ENV} is not an e-mail address: {text!r}")
        file_text = get(FILE_ENV)
        key = key_path_from_env() if env is None else _path(get(KEY_ENV))
        return cls(key_path=key, minutes=minutes, file=_path(file_text), email=email)


def _path(text: str | None) -> Path | None:
    return Path(text).expanduser() if text else None


# -- the publish file ---------------------------------------------------------------------


class PublishError(Exception):
    """The database's checkpoints do not continue the publish file: nothing was appended."""


def _last_line(f: IO[bytes]) -> str | None:
    """The file's last non-empty line, read from its end."""
    end = f.seek(0, os.SEEK_END)
    chunk = 4096
    data = b""
    pos = end
    while pos > 0:
        step = min(chunk, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        stripped = data.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1].decode("utf-8")
        chunk *= 2
    stripped = data.rstrip(b"\n")
    return stripped.decode("utf-8") if stripped else None


def read_last(path: Path) -> Signed | None:
    """The last checkpoint in ``path`` (None for a missing or empty file)."""
    try:
        with path.open("rb") as f:
            line = _last_line(f)
    except FileNotFoundError:
        return None
    if line is None:
        return None
    try:
        return parse_line(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PublishError(f"{path}: the last line is not a signed checkpoint ({exc})") from None


def publish_to_file(db: Database, path: Path, verifier: Verifier) -> int:
    """Append the stored checkpoints after the file's last; how many were appended."""
    appended = 0
    with path.open("a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            line = _last_line(f)
            try:
                last = parse_line(line) if line is not None else None
            except (ValueError, UnicodeDecodeError) as exc:
                raise PublishError(f"{path}: its last line is not a checkpoint ({exc})") from None
            seq = last.statement.seq if last else 0
            prev = last.statement.hash() if last else GENESIS
            while batch := sc.stored_after(db, seq):
                lines = []
                for signed in batch:
                    st = signed.statement
                    if st.seq != seq + 1 or st.prev != prev:
                        raise PublishError(
                            f"checkpoint #{st.seq} in the database does not continue {path}"
                            f" (which ends at #{seq}): was the database restored or altered?"
                        )
                    if st.key != verifier.key_id or not verifier.verify(
                        st.canonical().encode("utf-8"), signed.signature
                    ):
                        raise PublishError(
                            f"checkpoint #{st.seq} in the database is not signed by the key of"
                            f" {KEY_ENV}: not published"
                        )
                    lines.append(signed.line() + "\n")
                    seq, prev = st.seq, st.hash()
                f.seek(0, os.SEEK_END)
                f.write("".join(lines).encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
                appended += len(lines)
            stored = sc.last_seq(db)
            if stored < seq:
                raise PublishError(
                    f"{path} ends at checkpoint #{seq} but the database only has #{stored}:"
                    " was the database restored from a backup, or checkpoints deleted?"
                )
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    return appended


# -- the auditor's e-mail -----------------------------------------------------------------


def _message(signed: Signed, public_key: str) -> Rendered:
    st = signed.statement
    at = st.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    body = "\n".join(
        [
            f"Signed audit checkpoint #{st.seq} of planflow, made {at}.",
            "",
            f"It covers {st.records} audit records in {st.plans} plans. Keep this e-mail",
            "outside planflow. With the line at the end (one line per checkpoint, in a file)",
            "anyone can later check that no record it covers was changed:",
            "",
            "    planflow audit verify --checkpoints FILE --public-key KEY",
            "",
            f"The key that signed it: {public_key}",
            "(check it against the copy you were given when the key was made).",
            "",
            signed.line(),
            "",
        ]
    )
    return Rendered(subject=f"planflow audit checkpoint #{st.seq} ({at})", body=body)


def send_mail(
    db: Database,
    settings: SmtpSettings,
    transport: MailTransport,
    to: Address,
    verifier: Verifier,
    now: datetime,
) -> OutboxReport:
    """Send the e-mail of each checkpoint still waiting for one, oldest first."""
    report = OutboxReport()
    try:
        for signed in sc.mail_pending(db):
            seq = signed.statement.seq
            if not sc.take_mail(db, seq, now, MAIL_HOLD):
                continue  # another sender has it
            rendered = _message(signed, verifier.public_b64)
            message = compose(
                rendered,
                sender=settings.mail_from,
                to=to,
                language="en",
                message_id=f"<planflow.checkpoint.{seq}@{domain_of(settings.mail_from)}>",
                at=now,
            )
            try:
                transport.send(message)
            except SendError as exc:
                if exc.permanent:
                    sc.mail_done(db, seq, "failed")
                    report.failed += 1
                    log.error("checkpoint #%s: e-mail to %s failed for good (%s)", seq, to, exc)
                    continue
                # The key stays: the next try comes when it runs out (MAIL_HOLD).
                report.retried += 1
                log.warning("checkpoint #%s: e-mail not sent (%s); will try again", seq, exc)
                if exc.unavailable:
                    break
                continue
            sc.mail_done(db, seq, "sent")
            report.sent += 1
    finally:
        transport.close()
    return report
