"""Add translations to the UI catalogues in one step: extract, update, fill, compile.

Usage::

    .venv/bin/python webui/translations/fill.py NEW.json

``NEW.json`` maps each new msgid to its translations::

    {"Inspection calendar": {"zh": "检查日历", "ko": "점검 일정"},
     "%(n)s plan": {"zh": ["%(n)s 个计划"], "ko": ["%(n)s개 계획"]}}

(a plural msgid is keyed by its singular form; give a list, one string per
plural form of the language: Chinese and Korean have one). The script runs
under an exclusive file lock, so several people can add strings at once
without losing each other's entries. It never changes an existing
translation unless the JSON names that msgid. Without an argument it only
extracts, updates and compiles, and lists what is still untranslated.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
WEBUI = HERE.parent
ROOT = WEBUI.parent
LANGS = ("zh", "ko")
LOCK = HERE / ".fill.lock"


def _pybabel(*args: str) -> None:
    exe = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(exe), *args], cwd=ROOT, check=True, capture_output=True)


def _po_path(lang: str) -> Path:
    return HERE / lang / "LC_MESSAGES" / "messages.po"


def fill(new: dict[str, dict[str, str | list[str]]]) -> dict[str, list[str]]:
    _pybabel(
        "extract", "-F", "webui/babel.cfg", "-k", "_l", "-k", "lazy_gettext",
        "--no-location", "--sort-output", "-o", "webui/translations/messages.pot", "webui",
    )  # fmt: skip
    _pybabel(
        "update", "-i", "webui/translations/messages.pot", "-d", "webui/translations",
        "--no-fuzzy-matching",
    )  # fmt: skip
    missing: dict[str, list[str]] = {}
    for lang in LANGS:
        path = _po_path(lang)
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            given = new.get(key, {}).get(lang)
            if given is not None:
                if isinstance(message.id, str):
                    message.string = given if isinstance(given, str) else given[0]
                else:
                    message.string = tuple([given] if isinstance(given, str) else given)
                message.flags.discard("fuzzy")
            values = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(values):
                missing.setdefault(lang, []).append(key)
        with path.open("wb") as f:
            write_po(f, catalog, no_location=True, sort_output=True, width=100)
    _pybabel("compile", "-d", "webui/translations")
    return missing


def main(argv: list[str]) -> int:
    new = json.loads(Path(argv[1]).read_text(encoding="utf-8")) if len(argv) > 1 else {}
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = fill(new)
    for lang, keys in missing.items():
        print(f"{lang}: {len(keys)} untranslated")
        for key in keys:
            print(f"  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
