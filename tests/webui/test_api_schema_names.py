"""The OpenAPI document names its schemas by their models, the same in every process.

spectree's default named each schema after its model with a hash of the
module's path (``Plan.9a034f0``, ``Plan.9a034f0.Unit``): a client generated
from the document got classes called ``Plan9a034f0`` that changed whenever a
model moved. Now a schema is its model's name (``Plan``, ``Unit``), one model
a name. No database is needed: the document is public and reads none.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from planflow_web.api.spec import ComponentNames, _same_name_same_schema

#: Prints the document's schema names, and every reference in it, as JSON.
PRINT_NAMES = """
import json, sys
from planflow.app import Planflow
from planflow_web import create_app

pf = Planflow("sqlite:///" + sys.argv[1])
app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "PLANFLOW": pf})
spec = app.test_client().get("/api/v1/openapi.json").get_json()
refs = sorted(set(re.findall(r'"\\$ref": "([^"]+)"', json.dumps(spec))))
print(json.dumps({"names": list(spec["components"]["schemas"]), "refs": refs}))
pf.close()
""".replace("import json, sys", "import json, re, sys")

#: A schema name a generated client can take as a class name as it is.
READABLE = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
#: What spectree's default appended: a dot and seven hex digits.
HASHED = re.compile(r"\.[0-9a-f]{7}")


def _names_in_a_process(tmp_path: Path, run: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONHASHSEED=str(run))  # each process its own str hashes
    done = subprocess.run(
        [sys.executable, "-c", PRINT_NAMES, str(tmp_path / f"run{run}.sqlite3")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_schema_names_are_the_models_names_in_every_process(tmp_path: Path) -> None:
    first, second = (_names_in_a_process(tmp_path, run) for run in (1, 2))
    assert first == second
    names = first["names"]
    assert {"Plan", "PlanPage", "Problem", "FieldProblem", "Unit", "ReviewQueue"} <= set(names)
    assert [n for n in names if not READABLE.match(n) or HASHED.search(n)] == []
    # Every reference names a schema the document has.
    schemas = {f"#/components/schemas/{name}" for name in names}
    assert [r for r in first["refs"] if r.startswith("#/components/") and r not in schemas] == []


class _A(BaseModel):
    x: int


def test_two_models_of_one_name_are_refused() -> None:
    names = ComponentNames()
    assert names.top(_A) == "_A" and names.top(_A) == "_A"
    assert names.top(list[_A]) == "_AList"
    other = type("_A", (BaseModel,), {"__annotations__": {"y": int}, "__module__": "elsewhere"})
    with pytest.raises(RuntimeError, match="two API models are both called _A"):
        names.top(other)


def test_a_nested_model_unlike_another_of_its_name_is_refused() -> None:
    same = {"Plan": {"$defs": {"Unit": {"type": "object"}}}, "Unit": {"type": "object"}}
    _same_name_same_schema(same)
    unlike = {"Plan": {"$defs": {"Unit": {"type": "object"}}}, "Unit": {"type": "string"}}
    with pytest.raises(RuntimeError, match="Unit inside Plan"):
        _same_name_same_schema(unlike)
