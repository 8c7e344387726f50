"""The organisation: units, users, who holds which role where, and its generation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class Unit(SQLModel, table=True):
    """An organisation unit: federation, union, branch union, group, ..."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=300)
    created_at: datetime


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    display_name: str = Field(max_length=200)
    email: str = Field(default="", max_length=320)
    language: str = Field(default="en", max_length=8)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=255)
    #: Bumped to revoke every session of the user (password change, logout-all).
    session_version: int = 1
    #: immediately | digest | off
    email_preference: str = Field(default="immediately", max_length=16)
    created_at: datetime


class RoleAssignment(SQLModel, table=True):
    """A user holds a role at a unit."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(max_length=40)
    created_at: datetime


class OrgGeneration(SQLModel, table=True):
    """One row; bumped by every change to units, users or roles.

    Every process caches the organisation tree and reads this number in the
    same query as the plan it works on, so a change made by any process is
    seen by all of them on their next transition.
    """

    __tablename__ = "org_generation"

    id: int = Field(default=1, primary_key=True)
    generation: int = 1
