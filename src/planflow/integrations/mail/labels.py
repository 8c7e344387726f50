"""State, action, workflow and metric names for e-mails, from the workflow definitions.

Owns the one adapter between ``messages.Labels`` and the
``DefinitionRegistry``. A notification may outlive its definition (a renamed
state, a removed file, a file with a typo), so every miss falls back to the
raw name instead of failing the mail.
"""

from __future__ import annotations

from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.errors import PlanflowError


class RegistryLabels:
    def __init__(self, registry: DefinitionRegistry) -> None:
        self.registry = registry

    def _spec(self, workflow: str) -> WorkflowSpec | None:
        try:
            # The payload names no version; labels of the latest are the
            # ones people see in the web UI today.
            return self.registry.get(workflow)
        except PlanflowError:  # unknown workflow, or a definition file that does not load
            return None

    def workflow(self, workflow: str, language: str) -> str:
        spec = self._spec(workflow)
        return spec.title.get(language) or workflow if spec else workflow

    def state(self, workflow: str, state: str, language: str) -> str:
        spec = self._spec(workflow)
        if spec is None:
            return state
        try:
            return spec.state(state).label.get(language) or state
        except KeyError:
            return state

    def action(self, workflow: str, action: str, language: str) -> str:
        spec = self._spec(workflow)
        if spec is None:
            return action
        transition = spec.transition_named(action)  # a former name reads as the trigger
        return transition.label.get(language) or action if transition is not None else action

    def criterion(self, workflow: str, code: str, language: str) -> str:
        """A scoring-sheet criterion as the sheet shows it ("E1 Dues collected")."""
        spec = self._spec(workflow)
        if spec is None or spec.inspection is None:
            return code
        return spec.inspection.criterion_label(code, language)

    def metric(self, workflow: str, metric: str, language: str) -> str:
        """A target metric's label, from the latest definition's scoring sheet."""
        spec = self._spec(workflow)
        if spec is None or spec.inspection is None:
            return metric
        return spec.inspection.metric_label(metric, language) or metric
