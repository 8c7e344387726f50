"""Tests of planflow.core.definitions: loading, validation and the registry."""

from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from planflow.core.definitions import (
    GUARDS,
    LANGUAGES,
    DefinitionRegistry,
    Duration,
    Quorum,
    RoleRef,
    Where,
    load_definition,
    parse_definition,
)
from planflow.core.definitions import registry as registry_module
from planflow.errors import DefinitionError, NotFound

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / "workflows"
INVALID = Path(__file__).parent / "data" / "invalid_workflows"

TINY = """\
name: {name}
version: {version}
initial: draft
states:
  draft: {{}}
  done: {{final: true}}
transitions:
  - {{trigger: finish, source: draft, dest: done, role: drafter}}
"""

#: file stem -> every problem its load must report: (part of the message, line).
EXPECTED: dict[str, list[tuple[str, int]]] = {
    "alias_is_a_trigger": [("alias 'close' is a trigger of this definition", 9)],
    "alias_of_two_triggers": [("alias 'end' already names trigger 'finish'", 10)],
    "urge_every_zero_hours": [("must be between 1 and 8784, not 0", 5)],
    "allows_unknown_key": [
        ("unknown key 'delegate'; expected one of: transfer, add_approver, cc", 8)
    ],
    "transfer_to_nowhere": [("'anyone' is not one of: role, unit", 9)],
    "add_approver_unknown_mode": [("'instead' is not one of: before, after, alongside", 9)],
    "transfer_in_quorum_state": [("state 'draft' is decided by a quorum; it may allow cc only", 8)],
    "allows_without_task": [("only a state with a task: may allow these", 7)],
    "ambiguous_transition": [
        ("trigger 'finish' from state 'draft' is already defined by transitions[0]", 10)
    ],
    "builtin_role_declared": [("'reviewer' is a built-in role", 5)],
    "criteria_points_mismatch": [("criteria points add up to 90, but the category max is 100", 17)],
    "dead_end_state": [("state 'stuck' is not final but has no outgoing transition", 7)],
    "duplicate_criterion_code": [("duplicate criterion code 'A1'", 20)],
    "duplicate_key": [("duplicate key 'version' (first on line 3)", 5)],
    "duplicate_state": [("duplicate state 'draft' (first on line 6)", 8)],
    "empty_file": [("the top level must be a mapping", 1)],
    "final_not_boolean": [("must be true or false, not 'sometimes'", 7)],
    "final_state_with_outgoing": [("final state 'done' has outgoing transitions: 'reopen'", 7)],
    "grade_above_total": [("grade 'model' needs 120, above the sheet's total of 100", 13)],
    "grades_not_descending": [("70 is not below 'pass' (60)", 14)],
    "label_not_text": [("must be a text or a mapping of language to text, not a list", 6)],
    "missing_required_key": [("missing required key 'transitions'", 2)],
    "metric_label_conflict": [
        (
            "the metric 'dues' has another label at inspection.categories[0].criteria[0]; "
            "a metric has one label in a sheet",
            26,
        )
    ],
    "metric_label_unknown_language": [("unknown language 'fr'; use en, zh, ko", 22)],
    "name_not_identifier": [("'Tiny Plan' must be lower-case letters, digits and _", 2)],
    "negative_duration": [("must not be negative, not -3", 7)],
    "no_final_state_reachable": [("no final state can be reached from state 'spin'", 7)],
    "no_role_no_system": [("needs role: (who may fire it) or system: true", 9)],
    "quorum_zero": [("must be at least 1, not 0", 13)],
    "role_and_system": [("has both role: and system: true", 9)],
    "schedule_day_not_in_month": [("month 4 has only 30 days", 12)],
    "schedule_minute_out_of_range": [("must be between 0 and 59, not 60", 12)],
    "schedule_month_out_of_range": [("must be between 1 and 12, not 13", 12)],
    "schedule_unknown_state": [
        ("in_state 'drafted' is not defined under states: (did you mean 'draft'?)", 14)
    ],
    "schedule_unknown_trigger": [("unknown trigger 'close'", 13)],
    "several_problems": [
        ("unknown language 'de'", 7),
        ("unknown role 'chairman'", 8),
        ("unknown guard 'comment_requried' (did you mean 'comment_required'?)", 15),
        ("must be at least 1, not 0", 16),
        ("dest state 'nowhere' is not defined", 16),
        ("timer for state 'reviewing', which is not defined", 18),
    ],
    "timer_on_missing_state": [("timer for state 'reviewing', which is not defined", 11)],
    "timer_unknown_trigger": [("unknown trigger 'auto_close'", 13)],
    "timer_without_due": [("state 'draft' has no task with a due: date", 11)],
    "top_level_not_mapping": [("the top level must be a mapping", 2)],
    "return_to_unknown_state": [
        ("return_to state 'drafted' is not defined under states: (did you mean 'draft'?)", 10)
    ],
    "return_to_later_state": [("return_to state 'checked' is not an earlier step of 'review'", 12)],
    "undefined_dest_state": [("dest state 'nowhere' is not defined", 10)],
    "undefined_initial_state": [("initial state 'start' is not defined", 4)],
    "undefined_source_state": [
        ("source state 'drat' is not defined under states: (did you mean 'draft'?)", 10)
    ],
    "unknown_at": [("unknown 'at' value 'grandparent' (did you mean 'parent'?)", 9)],
    "unknown_creator_role": [("unknown role 'president'", 5)],
    "unknown_duration_unit": [("unknown duration unit 'weeks'", 7)],
    "sheet_guard_without_sheet": [
        ("guard 'inspection_passed' needs an inspection: scoring sheet in the definition", 13)
    ],
    "unknown_guard": [("unknown guard 'has_item' (did you mean 'has_items'?)", 13)],
    "unknown_key": [("unknown key 'dset' (did you mean 'dest'?)", 11)],
    "unknown_language": [("unknown language 'fr'", 7)],
    "unknown_notify_role": [("unknown role 'board'", 13)],
    "unknown_role": [("unknown role 'chairman'", 9)],
    "unknown_target_op": [("unknown target op '=>' (did you mean '>='?)", 22)],
    "unknown_task_role": [("unknown role 'reviwer' (did you mean 'reviewer'?)", 7)],
    "unknown_top_level_key": [("unknown key 'titel' (did you mean 'title'?)", 5)],
    "unquoted_comma_in_label": [("quote a text that contains a comma", 7)],
    "unreachable_state": [("state 'orphan' cannot be reached from the initial state 'draft'", 8)],
    "version_not_positive": [("must be at least 1, not 0", 3)],
    "yaml_syntax_error": [("YAML syntax error", 7)],
    # Files that once took the loader down (tests/test_definition_files.py has more).
    "alias_expansion": [("the aliases stand for more than 100000 values", 14)],
    "date_that_does_not_exist": [("'2027-13-45' must be lower-case letters, digits and _", 4)],
    "duration_too_long": [("must be at most 3660, not 365000", 6)],
    "nested_too_deep": [("lists and mappings nested more than 64 levels deep", 10)],
    "nul_character": [("the character U+0000 is not allowed in YAML", 4)],
    "recursive_alias": [("the alias *t is inside the list or mapping it names", 10)],
    "version_too_large": [("must be at most 2147483647, not 2147483648", 3)],
    "version_with_too_many_digits": [
        ("must be at most 2147483647, not a number of 5000 digits", 3)
    ],
}


def write_tiny(directory: Path, filename: str, name: str = "tiny", version: int = 1) -> Path:
    path = directory / filename
    path.write_text(TINY.format(name=name, version=version), encoding="utf-8")
    return path


# -- the shipped definitions --------------------------------------------------


def test_annual_plan_loads_with_its_states_and_transitions() -> None:
    path = WORKFLOWS / "annual_plan.yaml"
    spec = load_definition(path)
    assert spec.key == "annual_plan@5"
    assert spec.initial == "draft"
    assert spec.state_names == (
        *("draft", "submitted", "under_review", "returned", "approved"),
        *("inspection_scheduled", "inspected", "rectification_required", "accepted"),
        *("archived", "abandoned"),
    )
    assert spec.final_states == ("archived", "abandoned")
    assert [t.trigger for t in spec.transitions_from("under_review")] == [
        "approve",
        "return_for_revision",
        "recall",
        "auto_return",
    ]
    recall = spec.transition_named("recall")
    assert recall is not None and recall.sources == ("submitted", "under_review")
    assert (recall.dest, recall.notify_task_holders) == ("draft", True)
    assert [g.name for g in recall.guards] == ["not_acted_on"]
    abandon = spec.transition_named("withdraw")  # its name up to version 2
    assert abandon is not None and abandon.trigger == "abandon"
    assert abandon.sources == ("draft", "submitted", "returned")
    assert abandon.aliases == ("withdraw",)
    assert spec.urge_every_hours == 24
    auto = next(t for t in spec.transitions if t.trigger == "auto_return")
    assert auto.actor is None
    timer = spec.timer_for("under_review")
    assert timer is not None and timer.auto_trigger == "auto_return"
    assert timer.auto_after == Duration(days=30)
    assert spec.schedules[0].month == 4 and spec.schedules[0].hour == 8
    assert spec.inspection is not None and spec.inspection.max_total == 100
    assert [g.name for g in spec.inspection.grades] == ["model", "advanced", "qualified"]
    assert spec.source == str(path)
    assert spec.digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_committee_plan_needs_two_of_three_committee_members() -> None:
    spec = load_definition(WORKFLOWS / "committee_plan.yaml")
    assert spec.key == "committee_plan@5"
    assert spec.roles[-1] == "committee"
    review = spec.state("committee_review")
    assert review.task is not None
    assert review.task.assignee == RoleRef("committee", Where.PARENT)
    approve, send_back, recall, abandon = spec.transitions_from("committee_review")[:4]
    assert (approve.trigger, approve.dest, approve.quorum) == ("approve", "approved", Quorum(2))
    assert approve.actor == RoleRef("committee", Where.PARENT)
    assert (send_back.trigger, send_back.dest, send_back.quorum) == (
        "return_for_revision",
        "returned",
        None,
    )
    assert "comment_required" in [g.name for g in send_back.guards]
    assert (recall.trigger, recall.dest) == ("recall", "draft")
    assert (abandon.trigger, abandon.aliases) == ("abandon", ("withdraw",))
    assert [t.dest for t in spec.transitions_from("inspected")] == [
        "accepted",
        "rectification_required",
    ]


@pytest.mark.parametrize("filename", ["annual_plan.yaml", "committee_plan.yaml"])
def test_shipped_labels_are_in_every_language(filename: str) -> None:
    spec = load_definition(WORKFLOWS / filename)
    labels = [spec.title, *(s.label for s in spec.states), *(t.label for t in spec.transitions)]
    for label in labels:
        assert tuple(sorted(dict(label.texts))) == tuple(sorted(LANGUAGES)), label


def test_parse_definition_matches_load_definition() -> None:
    path = WORKFLOWS / "annual_plan.yaml"
    from_text = parse_definition(path.read_text(encoding="utf-8"), "memory")
    from_file = load_definition(path)
    assert from_text.digest == from_file.digest
    assert from_text.source == "memory"
    assert from_text.transitions == from_file.transitions


def test_guard_names_match_the_guards_the_engine_implements() -> None:
    from planflow.core.guards import BUILTIN_GUARDS

    assert set(GUARDS) == {g.name for g in BUILTIN_GUARDS}


def test_defaults_for_optional_keys() -> None:
    spec = parse_definition(TINY.format(name="tiny", version=3))
    assert spec.state("draft").label.get("zh") == "draft"  # falls back to the name
    assert spec.creator == RoleRef("drafter", Where.SAME)
    assert spec.transitions[0].actor == RoleRef("drafter", Where.SAME)
    assert spec.title.get() == "tiny"
    assert spec.urge_every_hours == 24
    assert spec.transitions[0].aliases == () and not spec.transitions[0].notify_task_holders


def test_urge_interval_and_aliases_are_read() -> None:
    text = TINY.format(name="tiny", version=1).replace(
        "role: drafter}", "role: drafter, aliases: [close, end], notify_task_holders: true}"
    )
    spec = parse_definition(text + "urge: {every_hours: 6}\n")
    assert spec.urge_every_hours == 6
    t = spec.transitions[0]
    assert t.aliases == ("close", "end") and t.notify_task_holders
    assert spec.transition_named("end") is t and spec.transition_named("nope") is None


def test_a_guard_may_carry_parameters() -> None:
    text = TINY.format(name="tiny", version=1).replace(
        "role: drafter}", "role: drafter, guards: [{has_items: {min: 2, kinds: [a, b]}}]}"
    )
    guard = parse_definition(text).transitions[0].guards[0]
    assert guard.name == "has_items"
    assert guard.param("min") == 2 and guard.param("kinds") == ("a", "b")


# -- invalid definitions ------------------------------------------------------


def test_every_invalid_file_has_an_expectation_and_a_comment() -> None:
    files = {p.stem for p in INVALID.glob("*.yaml")}
    assert files == set(EXPECTED)
    for stem in files:
        first = (INVALID / f"{stem}.yaml").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), stem


@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_definition_reports_its_problem_at_its_line(path: Path) -> None:
    expected = EXPECTED[path.stem]
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    found = [(p.message, p.line) for p in caught.value.problems]
    # Exactly these problems: no silent pass, and no cascade of follow-on noise.
    assert len(found) == len(expected), found
    for part, line in expected:
        assert any(part in message and at == line for message, at in found), (part, line, found)


def test_several_problems_are_reported_at_once_in_line_order() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definition(INVALID / "several_problems.yaml")
    error = caught.value
    assert [p.line for p in error.problems] == [7, 8, 15, 16, 16, 18]
    assert [p.path for p in error.problems][:3] == [
        "states.draft.label.de",
        "states.draft.task.role",
        "transitions[0].guards[0]",
    ]
    message = str(error)
    assert message.startswith(f"{INVALID / 'several_problems.yaml'}: 6 problem(s)")
    assert "transitions[1].dest:16: dest state 'nowhere'" in message


def test_a_misspelt_key_is_not_also_reported_missing() -> None:
    with pytest.raises(DefinitionError) as caught:
        load_definition(INVALID / "unknown_key.yaml")
    assert all("missing" not in p.message for p in caught.value.problems)


def test_merge_keys_override_instead_of_duplicating() -> None:
    text = TINY.format(name="tiny", version=1) + (
        "  - &base {trigger: start, source: draft, dest: done, role: reviewer}\n"
        "  - {<<: *base, trigger: restart}\n"
    )
    spec = parse_definition(text)
    assert [t.trigger for t in spec.transitions] == ["finish", "start", "restart"]


def test_unreadable_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read the file"):
        load_definition(tmp_path / "missing.yaml")


# -- the registry -------------------------------------------------------------


def test_registry_loads_the_shipped_workflows_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(registry_module.ENV_VAR, raising=False)
    registry = DefinitionRegistry()
    assert registry.directory == WORKFLOWS
    assert {s.name for s in registry.all()} >= {"annual_plan", "committee_plan"}


def test_registry_directory_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny(tmp_path, "tiny.yaml")
    monkeypatch.setenv(registry_module.ENV_VAR, str(tmp_path))
    registry = DefinitionRegistry()
    assert [s.key for s in registry.all()] == ["tiny@1"]


def test_registry_returns_the_latest_version(tmp_path: Path) -> None:
    write_tiny(tmp_path, "tiny_v2.yml", version=2)
    write_tiny(tmp_path, "tiny_v1.yaml", version=1)
    write_tiny(tmp_path, "other.yaml", name="other", version=7)
    registry = DefinitionRegistry(tmp_path)
    assert registry.get("tiny").version == 2
    assert registry.latest("tiny") is registry.get("tiny")
    assert registry.get("tiny", 1).version == 1
    assert [s.key for s in registry.all()] == ["other@7", "tiny@1", "tiny@2"]


def test_registry_unknown_name_or_version_is_not_found(tmp_path: Path) -> None:
    write_tiny(tmp_path, "tiny.yaml")
    registry = DefinitionRegistry(tmp_path)
    with pytest.raises(NotFound, match="unknown workflow definition: 'nope'"):
        registry.get("nope")
    with pytest.raises(NotFound, match="'tiny@3'"):
        registry.get("tiny", 3)


def test_registry_leaves_broken_files_out_and_lists_their_problems(tmp_path: Path) -> None:
    for stem in ("unknown_role", "dead_end_state"):
        shutil.copy(INVALID / f"{stem}.yaml", tmp_path)
    write_tiny(tmp_path, "good.yaml")
    registry = DefinitionRegistry(tmp_path)
    assert [s.key for s in registry.all()] == ["tiny@1"]
    assert [Path(e.source).name for e in registry.broken()] == [
        "dead_end_state.yaml",
        "unknown_role.yaml",
    ]
    problems = [(p.path, p.line) for p in registry.problems()]
    assert problems == [
        ("dead_end_state.yaml: states.stuck", 7),
        ("unknown_role.yaml: transitions[0].role", 9),
    ]


def test_registry_refuses_a_version_reused_with_other_content(tmp_path: Path) -> None:
    first = write_tiny(tmp_path, "a.yaml")
    (tmp_path / "b.yaml").write_text("# changed\n" + TINY.format(name="tiny", version=1))
    registry = DefinitionRegistry(tmp_path)
    assert registry.get("tiny").source == str(first)  # the first file keeps the version
    (error,) = registry.broken()
    assert error.source == str(tmp_path / "b.yaml")
    assert "tiny@1 is already defined in a.yaml" in str(error)


def test_registry_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="no such directory"):
        DefinitionRegistry(tmp_path / "nowhere").all()


def test_register_adds_specs_loaded_elsewhere(tmp_path: Path) -> None:
    registry = DefinitionRegistry(tmp_path, load_files=False)
    spec = parse_definition(TINY.format(name="stored", version=4), "<db>")
    registry.register(spec)
    registry.register(spec)  # the same content again: nothing changes
    assert registry.get("stored") is spec
    changed = parse_definition("# edited\n" + TINY.format(name="stored", version=4), "<db>")
    with pytest.raises(DefinitionError, match="stored@4 is already defined"):
        registry.register(changed)
    assert registry.get("stored", 4) is spec


def test_registry_reads_files_once_until_reload(tmp_path: Path) -> None:
    write_tiny(tmp_path, "tiny.yaml")
    registry = DefinitionRegistry(tmp_path)
    first = registry.get("tiny")
    write_tiny(tmp_path, "tiny2.yaml", version=2)
    assert registry.get("tiny") is first  # cached: the new file is not seen yet
    registry.reload()
    assert registry.get("tiny").version == 2


def test_registry_keeps_serving_when_a_reload_finds_a_broken_file(tmp_path: Path) -> None:
    write_tiny(tmp_path, "tiny.yaml")
    registry = DefinitionRegistry(tmp_path)
    registry.get("tiny")
    shutil.copy(INVALID / "unknown_role.yaml", tmp_path)
    registry.reload()
    assert registry.get("tiny").key == "tiny@1"
    assert [Path(e.source).name for e in registry.broken()] == ["unknown_role.yaml"]


def test_registry_keeps_serving_when_a_reload_finds_no_directory(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    folder.mkdir()
    write_tiny(folder, "tiny.yaml")
    registry = DefinitionRegistry(folder)
    first = registry.get("tiny")
    folder.rename(tmp_path / "moved")
    with pytest.raises(DefinitionError, match="no such directory"):
        registry.reload()
    assert registry.get("tiny") is first


def test_registry_loads_once_under_concurrent_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny(tmp_path, "tiny.yaml")
    calls: list[Path] = []
    real_load = registry_module.load_definition

    def counting_load(path: Path, **kwargs: Any) -> object:
        calls.append(path)
        return real_load(path, **kwargs)

    monkeypatch.setattr(registry_module, "load_definition", counting_load)
    registry = DefinitionRegistry(tmp_path)
    barrier = threading.Barrier(8)
    results: list[object] = []

    def worker() -> None:
        barrier.wait()
        results.extend(registry.get("tiny") for _ in range(100))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len(results) == 800 and all(r is results[0] for r in results)


def test_the_readme_example_is_a_valid_definition() -> None:
    readme = (WORKFLOWS / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = parse_definition(example, "README.md")
    assert spec.key == "tiny_plan@1"
    assert spec.transitions[1].quorum == Quorum(2)
