"""The README's "Five minutes with the command line", run line by line as written.

A new user typing it in found the third line moving plan 3 away from the
reviewer the next lines act as, then "unknown plan: 3" at every step. Each
line must now succeed on what the lines before it did, except the one the
README shows refused (the line after it, ``#   planflow: error: ...``).
"""

from __future__ import annotations

import glob
import shlex
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from test_cli import Cli, run

from planflow.storage import passwords

__all__ = ["run"]  # the fixture, shared with test_cli

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Five minutes with the command line"


def readme_commands() -> list[tuple[list[str], str | None]]:
    """Each ``planflow`` line of the section's sh block, with the refusal shown under it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, "the README lost its command-line section"
    block = text.split(SECTION, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands: list[tuple[list[str], str | None]] = []
    for line in block.splitlines():
        if line.startswith("#   planflow: error: "):
            argv, _ = commands[-1]
            commands[-1] = (argv, line.removeprefix("#   "))
            continue
        words = shlex.split(line, comments=True)
        assert words[0] == "planflow", line
        argv = []
        for word in words[1:]:  # the shell's globbing and folders, from the checkout
            if "*" in word:
                argv += sorted(glob.glob(str(ROOT / word)))
            elif word.endswith("/") and (ROOT / word).is_dir():
                argv.append(str(ROOT / word))
            else:
                argv.append(word)
        commands.append((argv, None))
    return commands


def test_the_readme_commands_work_in_order(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    commands = readme_commands()
    assert len(commands) > 15 and commands[0][0] == ["demo"]
    for argv, refusal in commands:
        result = run(*argv)
        if refusal is None:
            assert result.code == 0, (argv, result)
        else:
            assert (result.code, result.err.strip()) == (1, refusal), argv
