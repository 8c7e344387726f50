"""Evidence files on disk: what may be uploaded, and how the bytes are kept.

This module owns the rules for an uploaded file (size limit, the allowed
kinds, the declared content type and the file's own bytes agreeing with its
name, a safe display name, the type a stored file is served as; a refusal is
an ``EvidenceRefused`` naming the rule it broke) and the file store itself:
content-addressed by SHA-256 under ``<root>/<plan_id>/<sha256>``, written to
a temporary file and moved into place with ``os.replace``, so a reader never
sees half a file.
It knows nothing of the database: ``planflow.services.execution`` records the row and
decides when a file may be removed again.

The root is ``PLANFLOW_EVIDENCE_DIR``, else ``<instance>/evidence``; the size
limit is ``PLANFLOW_EVIDENCE_MAX_BYTES`` (default 10 MiB).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from planflow.core.text import BIDI_CONTROLS
from planflow.errors import ValidationError
from planflow.storage.db import instance_path

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 255
#: A longer "extension" is part of the name (no allowed kind has one this long).
MAX_EXTENSION = 16
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Controls refused in text evidence: every C0 control but tab, newline, FF and CR.
_BAD_TEXT = frozenset({*range(0x20), 0x7F} - {0x09, 0x0A, 0x0C, 0x0D})
# Control characters, unpaired surrogates (not UTF-8), line and paragraph separators.
_BAD_NAME_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


class EvidenceRefused(ValidationError):
    """An evidence file refused; ``reason`` names the rule, for callers that translate.

    Reasons: ``no_name``, ``path``, ``control`` (the name), ``empty``,
    ``too_big`` (``size``, ``limit``), ``kind`` (``allowed``), ``declared``
    (``declared``, ``expected``), ``content`` (``kind``, ``looks``).
    """

    def __init__(self, reason: str, message: str, **params: object) -> None:
        # One code per rule: ``evidence_too_big``, ``evidence_kind``, ...
        super().__init__(message, code=f"evidence_{reason}", params=params)
        self.reason = reason


def _is_text(data: bytes) -> bool:
    """Plain text in UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030.

    Chinese spreadsheets export CSV in GB18030, so UTF-8 alone would refuse
    real files. Binary data decodes to C0 control characters (or fails to
    decode), which is what refuses it.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(ord(c) in _BAD_TEXT for c in text)
    return False


def _zip_names(data: bytes) -> list[str] | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return None


def _ooxml(folder: str) -> Callable[[bytes], bool]:
    def sniff(data: bytes) -> bool:
        names = _zip_names(data)
        return (
            names is not None
            and "[Content_Types].xml" in names
            and any(n.startswith(folder) for n in names)
        )

    return sniff


def _odf(mimetype: str) -> Callable[[bytes], bool]:
    def sniff(data: bytes) -> bool:
        if _zip_names(data) is None:
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                info = zf.getinfo("mimetype")
                # Never inflate more than the few bytes a mimetype entry holds.
                if info.file_size > 200:
                    return False
                return zf.read(info).strip() == mimetype.encode("ascii")
        except (KeyError, zipfile.BadZipFile, ValueError, EOFError, OSError, RuntimeError):
            return False

    return sniff


@dataclass(frozen=True, slots=True)
class FileKind:
    name: str
    extensions: tuple[str, ...]
    #: The declared types accepted for it; the first is the canonical one.
    content_types: tuple[str, ...]
    sniff: Callable[[bytes], bool]


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
KINDS: tuple[FileKind, ...] = (
    FileKind("pdf", (".pdf",), ("application/pdf",), lambda d: d.startswith(b"%PDF-")),
    FileKind("png", (".png",), ("image/png",), lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    FileKind("jpeg", (".jpg", ".jpeg"), ("image/jpeg",), lambda d: d.startswith(b"\xff\xd8\xff")),
    FileKind("gif", (".gif",), ("image/gif",), lambda d: d.startswith((b"GIF87a", b"GIF89a"))),
    FileKind(
        "webp", (".webp",), ("image/webp",), lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP"
    ),
    FileKind("txt", (".txt",), ("text/plain",), _is_text),
    # Browsers on Windows with Excel installed declare CSV files as vnd.ms-excel.
    FileKind(
        "csv", (".csv",), ("text/csv", "application/csv", "application/vnd.ms-excel"), _is_text
    ),
    FileKind("docx", (".docx",), (_OOXML + "wordprocessingml.document",), _ooxml("word/")),
    FileKind("xlsx", (".xlsx",), (_OOXML + "spreadsheetml.sheet",), _ooxml("xl/")),
    FileKind("pptx", (".pptx",), (_OOXML + "presentationml.presentation",), _ooxml("ppt/")),
    FileKind("odt", (".odt",), (_ODF + "text",), _odf(_ODF + "text")),
    FileKind("ods", (".ods",), (_ODF + "spreadsheet",), _odf(_ODF + "spreadsheet")),
)
_BY_EXTENSION = {ext: kind for kind in KINDS for ext in kind.extensions}


_ALLOWED_TYPES = frozenset(t for kind in KINDS for t in kind.content_types)


def kind_for_filename(filename: str) -> FileKind | None:
    return _BY_EXTENSION.get(os.path.splitext(filename)[1].lower())


def safe_content_type(stored: str) -> str:
    """The type to serve a stored file as: its own if it is an allowed one, else opaque bytes."""
    return stored if stored in _ALLOWED_TYPES else "application/octet-stream"


def sanitize_filename(filename: str) -> str:
    """The name to keep and show: NFC, trimmed, at most 255 characters.

    A name with path parts or control characters is refused rather than
    cleaned: no client sends one by accident, and guessing which part was
    meant would hide an attack or a bug. A name too long is shortened,
    keeping its extension.
    """
    if not isinstance(filename, str):
        raise EvidenceRefused("no_name", "an evidence file needs a name")
    name = unicodedata.normalize("NFC", filename).strip()
    if not name or name in (".", ".."):
        raise EvidenceRefused("no_name", "an evidence file needs a name")
    if any(unicodedata.category(c) in _BAD_NAME_CATEGORIES or c in BIDI_CONTROLS for c in name):
        raise EvidenceRefused("control", f"the file name {filename!r} contains control characters")
    if "/" in name or "\\" in name or re.match(r"[A-Za-z]:", name):
        raise EvidenceRefused(
            "path", f"the file name {filename!r} contains path parts; give the bare file name"
        )
    if len(name) > MAX_FILENAME:
        stem, ext = os.path.splitext(name)
        if len(ext) > MAX_EXTENSION:
            stem, ext = name, ""
        name = stem[: MAX_FILENAME - len(ext)].rstrip() + ext
    return name


@dataclass(frozen=True, slots=True)
class CheckedFile:
    filename: str
    content_type: str  # the canonical type of its kind
    kind: str
    size: int
    sha256: str


class EvidenceStore:
    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    @classmethod
    def from_env(cls) -> EvidenceStore:
        folder = os.environ.get("PLANFLOW_EVIDENCE_DIR")
        root = Path(folder).resolve() if folder else instance_path() / "evidence"
        raw = os.environ.get("PLANFLOW_EVIDENCE_MAX_BYTES", "").strip()
        if not raw:
            return cls(root)
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError(
                f"PLANFLOW_EVIDENCE_MAX_BYTES must be a positive number of bytes, not {raw!r}"
            )
        return cls(root, int(raw))

    def check(self, filename: str, content_type: str, data: bytes) -> CheckedFile:
        """Refuse a file that is empty, too big, of a kind not allowed, or not what it says."""
        name = sanitize_filename(filename)
        self.check_size(name, len(data))
        kind = kind_for_filename(name)
        if kind is None:
            allowed = ", ".join(k.name for k in KINDS)
            raise EvidenceRefused(
                "kind",
                f"{name!r} is not an allowed kind of file; allowed: {allowed}",
                allowed=allowed,
            )
        raw = content_type if isinstance(content_type, str) else ""
        declared = raw.split(";", 1)[0].strip().lower()
        if declared not in kind.content_types:
            raise EvidenceRefused(
                "declared",
                f"{name!r} is declared as {declared or 'no type'!r}, which does not match its "
                f"name (a {kind.name} file is {kind.content_types[0]!r})",
                declared=declared,
                expected=kind.content_types[0],
            )
        if not kind.sniff(data):
            looks = next((k.name for k in KINDS if k.name != kind.name and k.sniff(data)), None)
            what = f"its content is a {looks} file" if looks else "its content is not one"
            raise EvidenceRefused(
                "content",
                f"{name!r} is named as a {kind.name} file, but {what}",
                kind=kind.name,
                looks=looks,
            )
        return CheckedFile(
            name, kind.content_types[0], kind.name, len(data), hashlib.sha256(data).hexdigest()
        )

    def check_size(self, name: str, size: int) -> None:
        """Refuse an empty or too big file (callers may check before reading it)."""
        if size <= 0:
            raise EvidenceRefused("empty", f"{name!r} is empty")
        if size > self.max_bytes:
            raise EvidenceRefused(
                "too_big",
                f"{name!r} is {size} bytes; evidence files may be at most {self.max_bytes} bytes",
                size=size,
                limit=self.max_bytes,
            )

    def path_for(self, plan_id: int, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValidationError(f"not a SHA-256 digest: {sha256!r}")
        return self.root / str(int(plan_id)) / sha256

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (across processes) while a file and its row change.

        Without it one upload could remove a file that a concurrent upload of
        the same bytes is about to commit a row for.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def write(self, plan_id: int, sha256: str, data: bytes) -> Path:
        """Store ``data`` (whose digest is ``sha256``) durably and atomically."""
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValidationError("the evidence bytes do not match their digest")
        path = self.path_for(plan_id, sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return path

    def remove(self, plan_id: int, sha256: str) -> None:
        with suppress(FileNotFoundError):
            self.path_for(plan_id, sha256).unlink()
