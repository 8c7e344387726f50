"""Workflow definitions: the spec types, loading and validating files, the registry.

Pure Python: nothing here imports the database layer or a web framework.
"""

from planflow.core.definitions.actions import GUARDS
from planflow.core.definitions.loader import load_definition, parse_definition
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import (
    BUILTIN_ROLES,
    LANGUAGES,
    Category,
    Criterion,
    Duration,
    Grade,
    GuardRef,
    Label,
    Quorum,
    RoleRef,
    ScheduleSpec,
    ScoringSheet,
    StateSpec,
    Target,
    TaskSpec,
    TimerSpec,
    TransitionSpec,
    Where,
    WorkflowSpec,
)

__all__ = [
    "BUILTIN_ROLES",
    "GUARDS",
    "LANGUAGES",
    "Category",
    "Criterion",
    "DefinitionRegistry",
    "Duration",
    "Grade",
    "GuardRef",
    "Label",
    "Quorum",
    "RoleRef",
    "ScheduleSpec",
    "ScoringSheet",
    "StateSpec",
    "Target",
    "TaskSpec",
    "TimerSpec",
    "TransitionSpec",
    "Where",
    "WorkflowSpec",
    "load_definition",
    "parse_definition",
]
