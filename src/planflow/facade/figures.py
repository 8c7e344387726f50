"""Figures over many plans: the year's overview per unit, and counts of what is stored."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func
from sqlmodel import select

from planflow.core.org import OrgSnapshot
from planflow.core.state_phases import StateClasses, state_classes
from planflow.facade.base import FacadeBase
from planflow.services.overview import UnitPlan, YearOverview, year_overview
from planflow.storage.overview_sql import unit_plans
from planflow.storage.tables import AuditRecord, Plan, Unit, User


class FiguresMixin(FacadeBase):
    def user_names(self) -> dict[int, str]:
        """Usernames by id (internal: for the id-based services' callers)."""
        return dict(self.org_snapshot().usernames)

    def year_overview(
        self, year: int, roots: Sequence[int], *, depth: int = 1, org: OrgSnapshot | None = None
    ) -> YearOverview:
        """A year's plans under ``roots`` (unit ids), per unit and rolled up ``depth`` levels down.

        Only units that draft plans count in the roll-ups: a unit with a plan, or
        where someone holds the role a definition at hand creates plans with.

        A fixed number of queries whatever the number of units (see ``planflow.services.overview``).
        """

        def classes_of(name: str, version: int) -> StateClasses:
            return state_classes(self.service.definitions.spec_for(self.db, name, version))

        return year_overview(
            self.db,
            org or self.org_snapshot(),
            classes_of,
            year=year,
            roots=roots,
            depth=depth,
            now=self.clock.now(),
            creator_roles={spec.creator.role for spec in self.registry.all()},
        )

    def unit_plans(self, year: int, unit_ids: Collection[int]) -> list[UnitPlan]:
        """The year's plans of ``unit_ids`` (the overview's units), oldest first, in one query."""
        return unit_plans(self.db, year, unit_ids)

    def counts(self) -> dict[str, int]:
        with self.db.read_session() as s:
            return {
                "units": s.exec(select(func.count()).select_from(Unit)).one(),
                "users": s.exec(select(func.count()).select_from(User)).one(),
                "plans": s.exec(select(func.count()).select_from(Plan)).one(),
                "audit_records": s.exec(select(func.count()).select_from(AuditRecord)).one(),
            }
