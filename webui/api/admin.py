"""The organisation through the API, for administrators: units, people, roles.

Needs a token with scope ``admin`` whose user holds the admin role; what an
administrator sees and may change is the library's admin rule
(``Planflow.admin``, over ``services.org_admin``): the units at and
below where they hold the role, the people with a role there, and no way
to change one's own admin role or account from here.
"""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from spectree import Response as Responses

from planflow.services.admin_directory import AdminScope, Person

from ..users import planflow
from .auth import caller, require_scope
from .schemas import Problem, Strict, View
from .spec import validate

NAME = "<string(maxlength=64):{}>"
ERRORS = {"HTTP_403": Problem, "HTTP_404": Problem, "HTTP_409": Problem, "HTTP_422": Problem}


class AdminUnit(View):
    code: str
    name: str
    parent: str | None


class AdminUnits(BaseModel):
    items: list[AdminUnit]


class PersonRole(BaseModel):
    role: str
    unit: str
    manageable: bool


class AdminPerson(BaseModel):
    username: str
    display_name: str
    email: str
    language: str
    active: bool
    roles: list[PersonRole]
    account_managed: bool

    @classmethod
    def of(cls, p: Person) -> AdminPerson:
        return cls(
            username=p.username,
            display_name=p.display_name,
            email=p.email,
            language=p.language,
            active=p.active,
            roles=[
                PersonRole(role=r.role, unit=r.unit_code, manageable=r.manageable) for r in p.roles
            ],
            account_managed=p.account_managed,
        )


class PeopleQuery(Strict):
    q: str = Field("", max_length=100)
    page: int = Field(1, ge=1, le=10_000)


class People(BaseModel):
    items: list[AdminPerson]
    total: int
    page: int
    has_more: bool


class NewPerson(Strict):
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    language: Literal["en", "zh", "ko"] = "en"
    role: str = Field(min_length=1, max_length=64)
    unit: str = Field(min_length=1, max_length=64)


class Active(Strict):
    active: bool


class Done(BaseModel):
    username: str
    changed: bool


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/admin/units", "admin_units", units, methods=["GET"])
    bp.add_url_rule("/admin/people", "admin_people", people, methods=["GET"])
    bp.add_url_rule("/admin/people", "admin_add_person", add_person, methods=["POST"])
    person = f"/admin/people/{NAME.format('username')}"
    bp.add_url_rule(f"{person}/active", "admin_active", set_active, methods=["PUT"])
    role = f"{person}/roles/{NAME.format('role')}/{NAME.format('unit')}"
    bp.add_url_rule(role, "admin_assign", assign_role, methods=["PUT"])
    bp.add_url_rule(role, "admin_revoke", revoke_role, methods=["DELETE"])


def _actor() -> str:
    require_scope("admin")
    return caller()


def _scope() -> AdminScope:
    return planflow().admin.scope(_actor())


@validate(resp=Responses(HTTP_200=AdminUnits, **ERRORS), tags=["admin"])
def units() -> AdminUnits:
    """The units the caller administers, each under its parent. Scope ``admin``."""
    scope = _scope()
    return AdminUnits(
        items=[
            AdminUnit.model_validate(u)
            for u in planflow().org.units()
            if planflow().unit_id(u.code) in scope.units
        ]
    )


@validate(query=PeopleQuery, resp=Responses(HTTP_200=People, **ERRORS), tags=["admin"])
def people(query: PeopleQuery) -> People:
    """The people with a role in the caller's units, a page at a time. Scope ``admin``."""
    page = planflow().admin.people(_actor(), query.q, query.page)
    return People(
        items=[AdminPerson.of(p) for p in page.people],
        total=page.total,
        page=page.page,
        has_more=page.more,
    )


@validate(json=NewPerson, resp=Responses(HTTP_201=Done, **ERRORS), tags=["admin"])
def add_person(json: NewPerson) -> tuple[Done, int]:
    """A new person with a first role at one of the caller's units. Scope ``admin``."""
    planflow().admin.create_user(
        _actor(),
        json.username,
        json.display_name,
        email=json.email,
        language=json.language,
        role=json.role,
        unit=json.unit,
    )
    return Done(username=json.username, changed=True), 201


@validate(json=Active, resp=Responses(HTTP_200=Done, **ERRORS), tags=["admin"])
def set_active(username: str, json: Active) -> Done:
    """Deactivate (or reactivate) a person the caller manages. Scope ``admin``."""
    planflow().admin.set_active(_actor(), username, json.active)
    return Done(username=username, changed=True)


@validate(resp=Responses(HTTP_200=Done, **ERRORS), tags=["admin"])
def assign_role(username: str, role: str, unit: str) -> Done:
    """Give a person a role at one of the caller's units. Scope ``admin``."""
    changed = planflow().admin.assign_role(_actor(), username, role, unit)
    return Done(username=username, changed=changed)


@validate(resp=Responses(HTTP_200=Done, **ERRORS), tags=["admin"])
def revoke_role(username: str, role: str, unit: str) -> Done:
    """Take a role at one of the caller's units from a person. Scope ``admin``."""
    changed = planflow().admin.revoke_role(_actor(), username, role, unit)
    return Done(username=username, changed=changed)
