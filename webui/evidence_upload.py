"""How big an evidence upload may be, as the web checks it on the way to the library.

The library's limit (``EvidenceStore.max_bytes``) is the rule. The web adds
three things so that a file over it costs the user nothing they typed:

- ``body_limit``: the progress form's body may be several times the limit,
  so a file a few times too big is still read and refused on the form, with
  the report shown again; only a larger body is refused unread (413).
- ``chosen_file``: the file's size is measured on the stream Werkzeug
  spooled it to, before its bytes are read, so an oversized file never
  comes into memory.
- ``too_large_note``: the words ``static/progress.js`` shows when a file
  chosen in the browser is over the limit, before anything is sent.
"""

from __future__ import annotations

import os
from typing import Any

from planflow.services.execution import Upload
from planflow.storage.evidence_files import EvidenceStore

from .progress_forms import file_size, gettext

#: Room for the form's other fields next to the file.
FORM_ROOM = 256 * 1024
#: A file up to this many times the limit is still read, to be refused on the form with
#: the typed report kept (a photo or scan straight from the device is the usual mistake);
#: a larger body costs more to take in than the report is worth, so it is refused unread.
OVERSIZE_READ = 4


def body_limit(max_bytes: int) -> int:
    """The largest progress form read (``max_bytes``: the evidence file limit)."""
    return OVERSIZE_READ * max_bytes + FORM_ROOM


def chosen_file(storage: Any, store: EvidenceStore) -> Upload | None:
    """The file of a form's file field (None: none chosen).

    ``EvidenceRefused`` if it is empty or over the limit, before it is read.
    """
    if storage is None or not getattr(storage, "filename", None):
        return None  # no file chosen: browsers send an empty part
    stream = storage.stream
    if stream.seekable():
        # Werkzeug spooled the part to a temporary file (or memory, when small):
        # measure it there, so a file several times the limit is never read.
        size = stream.seek(0, os.SEEK_END)
        stream.seek(0)
        store.check_size(storage.filename, size)
    return Upload(storage.filename, storage.content_type or "", storage.read())


def too_large_note(max_bytes: int) -> str:
    """What ``progress.js`` shows next to a file chosen over the limit ("{size}": its size)."""
    said = gettext(
        "This file is %(size)s; evidence files may be at most %(limit)s.",
        size="{size}",
        limit=file_size(max_bytes),
    )
    return said + " " + gettext("Choose a smaller file.")
