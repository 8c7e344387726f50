"""Reading who may act: role references and the ``transitions:`` section.

Owns the keys of a transition (trigger, sources, dest, actor, guards, quorum,
notifications) and of role references (``{role, at}``), checking each role
against the definition's roles and each guard against the guards registered
(``planflow.core.guard_registry``: the built-ins and a library user's own).
Whether states and triggers exist is left to ``validate``.
"""

from __future__ import annotations

from typing import Protocol

from yaml.nodes import Node, ScalarNode, SequenceNode

from planflow.core.definitions.nodes import Reader, join, quote, suggest
from planflow.core.definitions.spec import GuardRef, Label, Quorum, RoleRef, TransitionSpec, Where
from planflow.core.ids import MAX_ID

#: The built-in guards (``planflow.core.guards``); a definition may name these and
#: the guards a library user registered.
GUARDS = (
    *("has_items", "all_items_have_due_dates", "comment_required", "not_self"),
    *("inspection_recorded", "inspection_scored", "inspection_passed"),
    "not_acted_on",
)
#: The fact that only a definition with an ``inspection:`` scoring sheet can provide.
SHEET_FACT = "inspection"


class KnownGuards(Protocol):
    """The guards a definition may name, and the facts each needs (a ``GuardRegistry``)."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def needs(self, name: str) -> frozenset[str]: ...


WHERE = tuple(w.value for w in Where)
REQUIRED = ("trigger", "source", "dest")
OPTIONAL = (
    *("label", "role", "at", "system", "guards", "quorum"),
    *("submission", "notify", "notify_submitter", "notify_task_holders", "aliases", "cc"),
    "on_open",
)


class ActionReader:
    """Reads role references and transitions once the definition's roles are known."""

    def __init__(self, reader: Reader, roles: tuple[str, ...], guards: KnownGuards) -> None:
        self._r = reader
        self.roles = roles
        self.guards = guards

    def role(self, node: Node, path: str) -> str | None:
        role = self._r.name(node, path)
        if role is not None and role not in self.roles:
            hint = suggest(role, self.roles)
            known = ", ".join(self.roles)
            message = (
                f"unknown role {quote(role)}{hint}; use one of {known} or declare it under roles:"
            )
            self._r.fail(path, node, message)
            return None
        return role

    def at(self, node: Node, path: str) -> Where | None:
        value = self._r.text(node, path)
        if value is not None and value not in WHERE:
            hint = suggest(value, WHERE)
            message = f"unknown 'at' value {quote(value)}{hint}; use {', '.join(WHERE)}"
            self._r.fail(path, node, message)
            return None
        return None if value is None else Where(value)

    def role_ref(self, node: Node, path: str) -> RoleRef | None:
        """``{role: x, at: where}``, or a plain role name meaning ``at: same``."""
        if isinstance(node, ScalarNode):
            role = self.role(node, path)
            return None if role is None else RoleRef(role)
        fields = self._r.mapping(node, path, ("role",), ("at",))
        if fields is None:
            return None
        role = self._r.get(fields, path, "role", self.role)
        at = self._r.get(fields, path, "at", self.at)
        return None if role is None else RoleRef(role, at or Where.SAME)

    def transition(self, node: Node, path: str) -> TransitionSpec | None:
        r = self._r
        fields = r.mapping(node, path, REQUIRED, OPTIONAL)
        if fields is None:
            return None
        trigger = r.get(fields, path, "trigger", r.name)
        sources = r.get(fields, path, "source", self._sources)
        dest = r.get(fields, path, "dest", r.name)
        actor = self._actor(node, fields, path)
        quorum = r.get(fields, path, "quorum", self._quorum)
        system = "role" not in fields  # fired by the system, or by no one (reported)
        if quorum is not None and system:
            r.problems.add(join(path, "quorum"), "a quorum needs role:; the system does not vote")
        submission = r.get(fields, path, "submission", r.boolean)
        if submission and system:
            r.problems.add(join(path, "submission"), "submission: true needs role:, not system")
        on_open = r.get(fields, path, "on_open", r.boolean)
        if on_open and (system or quorum is not None):
            r.problems.add(
                join(path, "on_open"),
                "on_open: true needs role: and no quorum: it is fired by the one opening the task",
            )
        notify = r.get(fields, path, "notify", self._notify)
        aliases = r.get(fields, path, "aliases", self._aliases)
        if trigger is None or sources is None or dest is None:
            return None
        return TransitionSpec(
            trigger=trigger,
            sources=sources,
            dest=dest,
            actor=actor,
            label=r.get(fields, path, "label", r.label) or Label.of(en=trigger),
            guards=r.get(fields, path, "guards", self._guards) or (),
            quorum=quorum,
            submission=bool(submission),
            notify=notify or (),
            notify_submitter=bool(r.get(fields, path, "notify_submitter", r.boolean)),
            notify_task_holders=bool(r.get(fields, path, "notify_task_holders", r.boolean)),
            aliases=aliases or (),
            cc=r.get(fields, path, "cc", self._notify) or (),
            on_open=bool(on_open),
        )

    def _sources(self, node: Node, path: str) -> tuple[str, ...] | None:
        if isinstance(node, ScalarNode):
            name = self._r.name(node, path)
            return None if name is None else (name,)
        names: list[str] = []
        items = self._r.items(node, path, allow_empty=False)
        for item_path, item in items:
            name = self._r.name(item, item_path)
            if name in names:
                self._r.fail(item_path, item, f"state {quote(name)} is listed twice")
            elif name is not None:
                names.append(name)
        return tuple(names) if items and len(names) == len(items) else None

    def _aliases(self, node: Node, path: str) -> tuple[str, ...] | None:
        """Former names of the trigger; whether they clash with others is ``validate``'s."""
        names: list[str] = []
        for item_path, item in self._r.items(node, path):
            name = self._r.name(item, item_path)
            if name in names:
                self._r.fail(item_path, item, f"alias {quote(name)} is listed twice")
            elif name is not None:
                names.append(name)
        return tuple(names)

    def _actor(self, node: Node, fields: dict[str, Node], path: str) -> RoleRef | None:
        """``role: {role, at}``, or ``role: name`` with a sibling ``at:``, or ``system: true``."""
        r = self._r
        role_node, at_node = fields.get("role"), fields.get("at")
        system = r.get(fields, path, "system", r.boolean)
        if role_node is not None and system:
            r.problems.add(join(path, "system"), "has both role: and system: true; give one")
        elif role_node is None and not system:
            r.fail(join(path, "role"), node, "needs role: (who may fire it) or system: true")
        if at_node is not None and not isinstance(role_node, ScalarNode):
            r.problems.add(join(path, "at"), "at: belongs next to a plain role: name only")
        if role_node is None:
            return None
        if not isinstance(role_node, ScalarNode):
            return self.role_ref(role_node, join(path, "role"))
        role = self.role(role_node, join(path, "role"))
        at = r.get(fields, path, "at", self.at) if at_node is not None else None
        return None if role is None else RoleRef(role, at or Where.SAME)

    def _quorum(self, node: Node, path: str) -> Quorum | None:
        r = self._r
        fields = r.mapping(node, path, ("required",))
        required = r.get(
            fields or {}, path, "required", lambda n, p: r.integer(n, p, low=1, cap=MAX_ID)
        )
        return None if required is None else Quorum(required)

    def _notify(self, node: Node, path: str) -> tuple[RoleRef, ...]:
        refs = (self.role_ref(item, item_path) for item_path, item in self._r.items(node, path))
        return tuple(ref for ref in refs if ref is not None)

    def _guards(self, node: Node, path: str) -> tuple[GuardRef, ...]:
        r = self._r
        guards: list[GuardRef] = []
        for item_path, item in r.items(node, path):
            params: tuple[tuple[str, object], ...] = ()
            if isinstance(item, ScalarNode):
                name = r.text(item, item_path)
            else:
                fields = r.mapping(item, item_path, any_keys=True, what="guard")
                if fields is None:
                    continue
                if len(fields) != 1:
                    r.fail(item_path, item, "a guard with parameters is {name: {param: value}}")
                    continue
                ((name, params_node),) = fields.items()
                params = self._params(params_node, join(item_path, name))
            known = self.guards.names
            if name is not None and name not in known:
                hint = suggest(name, known)
                message = f"unknown guard {quote(name)}{hint}; known: {', '.join(known)}"
                r.fail(item_path, item, message)
            elif name is not None and any(g.name == name for g in guards):
                r.fail(item_path, item, f"guard {quote(name)} is listed twice")
            elif name is not None:
                guards.append(GuardRef(name, params))
        return tuple(guards)

    def _params(self, node: Node, path: str) -> tuple[tuple[str, object], ...]:
        r = self._r
        if isinstance(node, ScalarNode) and r.value(node) is None:
            return ()
        params: list[tuple[str, object]] = []
        for key, value in (r.mapping(node, path, any_keys=True, what="parameter") or {}).items():
            if isinstance(value, ScalarNode):
                params.append((key, r.value(value)))
            elif isinstance(value, SequenceNode) and all(
                isinstance(item, ScalarNode) for item in value.value
            ):
                # A tuple, not a list: a spec must stay immutable and hashable.
                params.append((key, tuple(r.value(item) for item in value.value)))
            else:
                r.fail(join(path, key), value, "guard parameters must be plain values or lists")
        return tuple(params)
