"""Reading a plan file: refusals with codes for what cannot be a plan, never a traceback.

What a file is, is told by its bytes, not its name: a .docx renamed to .txt
is read as Word (the ``UnicodeDecodeError`` of issue 16), an old binary .doc,
a PDF or an image is refused as a kind that cannot be read, with the hint to
save it as .docx or .txt.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from planflow.core.content.importer import Line
from planflow.errors import ValidationError
from planflow.integrations.documents.encodings import decode, looks_binary

#: The largest file read: a long plan is some hundred KiB, a Word file with pictures a few MiB.
MAX_BYTES = 10 * 1024 * 1024
#: The largest text a Word file may unpack to (a small zip can unpack to gigabytes).
MAX_UNPACKED = 50 * 1024 * 1024
KINDS = (".txt", ".docx")


class DocumentRefused(ValidationError):
    """A plan file that cannot be imported; ``reason`` names the rule.

    Reasons (code ``document_<reason>``): ``missing`` (``path``), ``too_big``
    (``size``, ``max``), ``empty``, ``binary``, ``kind`` (``looks``,
    ``allowed``), ``encoding`` (``tried``), ``damaged`` (``kind``).
    """

    def __init__(self, reason: str, message: str, **params: object) -> None:
        super().__init__(message, code=f"document_{reason}", params=params)
        self.reason = reason


def _looks(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "doc"  # Word 97-2003 (OLE compound file)
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"{\\rtf"):
        return "rtf"
    return "text"


def _docx(data: bytes) -> list[Line]:
    from planflow.integrations.documents.docx_reading import docx_lines

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = {info.filename: info.file_size for info in archive.infolist()}
    except zipfile.BadZipFile as exc:
        raise DocumentRefused("damaged", "the Word file is damaged", kind="docx") from exc
    if "word/document.xml" not in names:
        raise DocumentRefused(
            "kind", "a zip file that is not a Word document", looks="zip", allowed=list(KINDS)
        )
    if sum(names.values()) > MAX_UNPACKED:
        raise DocumentRefused(
            "too_big", "the Word file unpacks too big", size=len(data), max=MAX_BYTES
        )
    try:
        return docx_lines(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on a broken part
        raise DocumentRefused("damaged", f"the Word file is damaged: {exc}", kind="docx") from exc


def read_plan_bytes(data: bytes) -> list[Line]:
    """The paragraphs of a plan file's bytes (.txt in any of its encodings, or .docx)."""
    if len(data) > MAX_BYTES:
        raise DocumentRefused(
            "too_big",
            f"the file has {len(data)} bytes, more than {MAX_BYTES}",
            size=len(data),
            max=MAX_BYTES,
        )
    if not data.strip():
        raise DocumentRefused("empty", "the file is empty")
    looks = _looks(data)
    if looks == "zip":
        lines = _docx(data)
    elif looks != "text":
        raise DocumentRefused(
            "kind",
            f"cannot read a {looks} file: save it as .docx or .txt",
            looks=looks,
            allowed=list(KINDS),
        )
    elif looks_binary(data):
        raise DocumentRefused("binary", "the file is not text (binary data)")
    else:
        decoded = decode(data)
        if decoded is None:
            tried = ["utf-8", "gb18030", "cp949"]
            raise DocumentRefused("encoding", "the text is in no encoding tried", tried=tried)
        lines = [Line(line) for line in decoded[0].splitlines()]
    if not any(line.text.strip() for line in lines):
        raise DocumentRefused("empty", "the file has no text")
    return lines


def read_plan_file(path: str | Path) -> list[Line]:
    """The paragraphs of the plan file at ``path``."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise DocumentRefused(
                "too_big",
                f"the file has {size} bytes, more than {MAX_BYTES}",
                size=size,
                max=MAX_BYTES,
            )
        data = file.read_bytes()
    except OSError as exc:
        raise DocumentRefused(
            "missing", f"cannot read {file}: {exc.strerror}", path=str(file)
        ) from exc
    return read_plan_bytes(data)
