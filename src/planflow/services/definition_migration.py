"""Moving running plans to a new version of their workflow definition.

Changing a definition under running plans breaks them, so planflow never
does it implicitly: a plan keeps the version it started under, and an admin
moves plans explicitly with a state mapping. ``plan_migration`` is the dry
run (what would move where, and what cannot); ``apply_migration`` moves each
plan through ``PlanService.mutate`` — version check, audit record
("migrate_workflow", with both definition keys), and a fresh task for the
state in the new version — one plan per transaction, so a failure leaves
every plan either fully moved or untouched. Each plan moved is also an
admin action on the organisation's audit chain (``definition_migrated``),
written in that plan's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from planflow.core.intents import DefinitionMigration
from planflow.errors import PermissionDenied, ValidationError
from planflow.services.changes import Step, StepContext
from planflow.services.plans import PlanService
from planflow.storage import org_audit
from planflow.storage import plan_store as ps
from planflow.storage.tx import Tx, read_tx

ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class PlanMove:
    plan_id: int
    from_state: str
    to_state: str


@dataclass
class MigrationPlan:
    workflow: str
    from_version: int
    to_version: int
    moves: list[PlanMove] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Plans in a final state: finished, so they keep the version they ended under.
    finished: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        head = (
            f"{self.workflow}@{self.from_version} -> @{self.to_version}: "
            f"{len(self.moves)} plan(s) to move"
        )
        lines = [head]
        for m in self.moves:
            arrow = f"{m.from_state} -> {m.to_state}" if m.from_state != m.to_state else m.to_state
            lines.append(f"  plan {m.plan_id}: {arrow}")
        if self.finished:
            lines.append(f"  {len(self.finished)} finished plan(s) stay on @{self.from_version}")
        lines += [f"  problem: {p}" for p in self.problems]
        return "\n".join(lines)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["returned=needs_changes", ...]`` to a dict; bad pairs are refused."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValidationError(f"a state mapping is OLD=NEW, not {pair!r}")
        mapping[old.strip()] = new.strip()
    return mapping


def plan_migration(
    service: PlanService,
    name: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str],
) -> MigrationPlan:
    """The dry run: every plan of ``name@from_version`` and where it would go."""
    source = service.registry.get(name, from_version)
    target = service.registry.get(name, to_version)
    result = MigrationPlan(name, from_version, to_version)
    if from_version == to_version:
        result.problems.append("the source and target versions are the same")
    for old, new in mapping.items():
        if old not in source.state_names:
            result.problems.append(f"mapped state {old!r} is not a state of {source.key}")
        if new not in target.state_names:
            result.problems.append(f"state {new!r} (for {old!r}) is not a state of {target.key}")
    with read_tx(service.db) as tx:
        rows = tx.all(ps.SELECT_PLANS_OF_VERSION, {"name": name, "version": from_version})
    for plan_id, state in rows:
        if state in source.final_states:
            result.finished.append(int(plan_id))
            continue
        new_state = mapping.get(state, state)
        if new_state not in target.state_names:
            result.problems.append(
                f"plan {plan_id} is in {state!r}, which {target.key} does not have; "
                f"map it with {state}=NEW_STATE"
            )
            continue
        result.moves.append(PlanMove(int(plan_id), state, new_state))
    return result


def apply_migration(service: PlanService, migration: MigrationPlan, actor_id: int) -> int:
    """Move every plan of a clean dry run; returns how many moved."""
    if not migration.ok:
        raise ValidationError("the migration has problems:\n" + migration.describe())
    target = service.registry.get(migration.workflow, migration.to_version)
    service.definitions.ensure_stored(service.db, target, service.clock.now())
    moved = 0
    for move in migration.moves:
        service.mutate(
            move.plan_id,
            "migrate_workflow",
            actor_id,
            DefinitionMigration(target, move.to_state),
            check=_mover(move, actor_id, migration, target.key),
            detail={
                "from": f"{migration.workflow}@{migration.from_version}",
                "to": target.key,
            },
        )
        moved += 1
    return moved


def _mover(move: PlanMove, actor_id: int, migration: MigrationPlan, target: str) -> Step:
    from_version = migration.from_version

    def apply(tx: Tx, row: ps.PlanRow, change: StepContext) -> None:
        if row.workflow_version != from_version or row.state != move.from_state:
            raise ValidationError(
                f"plan {row.id} changed since the dry run (now {row.state!r} "
                f"under version {row.workflow_version}); run the migration again"
            )
        org = change.org
        units = [row.unit_id, *org.ancestors(row.unit_id)]
        if not any(actor_id in org.holders(ADMIN_ROLE, u) for u in units):
            raise PermissionDenied("migrate_workflow", ADMIN_ROLE, "at the plan's unit or above")
        # On the organisation's trail too, in the plan's own transaction.
        org_audit.record(
            tx,
            actor_id,
            change.at,
            "definition_migrated",
            plan=row.id,
            from_state=move.from_state,
            to_state=move.to_state,
            **{"from": f"{migration.workflow}@{from_version}", "to": target},
        )

    return apply
