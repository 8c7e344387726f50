"""A waiting state's ``allows:`` block: transfer, add an approver, CC, return to a step.

::

    under_review:
      task: {role: reviewer, at: parent}
      allows:
        transfer: {to: role}              # or {to: unit}
        add_approver: [before, after, alongside]
        cc: true
        return_to: [draft, submitted]     # earlier states to send the plan back to
        return_to_returner: true          # resubmitted, it comes straight back here

Every unknown key or value is a problem with its line, like the rest of the
file; what the holder may then do is ``planflow.core.handover``'s.
"""

from __future__ import annotations

from yaml.nodes import Node

from planflow.core.definitions.nodes import Reader, column_of, quote
from planflow.core.definitions.spec import ADD_APPROVER_MODES, TRANSFER_TO, Allows

KEYS = ("transfer", "add_approver", "cc", "return_to", "return_to_returner")


def read_allows(r: Reader, node: Node, path: str) -> Allows | None:
    fields = r.mapping(node, path, (), KEYS)
    if fields is None:
        return None
    transfer = r.get(fields, path, "transfer", lambda n, p: _transfer(r, n, p))
    modes = r.get(fields, path, "add_approver", lambda n, p: _modes(r, n, p))
    cc = r.get(fields, path, "cc", r.boolean)
    targets = r.get(fields, path, "return_to", lambda n, p: _states(r, n, p)) or ()
    back = r.get(fields, path, "return_to_returner", r.boolean)
    return Allows(
        transfer=transfer,
        add_approver=modes or (),
        cc=bool(cc),
        return_to=targets,
        return_to_returner=bool(back),
    )


def _states(r: Reader, node: Node, path: str) -> tuple[str, ...]:
    # Whether each is an earlier state of the graph is ``validate``'s to say.
    targets: list[str] = []
    for item_path, item in r.items(node, path, allow_empty=False):
        r.problems.columns.setdefault(item_path, column_of(item))
        target = r.name(item, item_path)
        if target in targets:
            r.fail(item_path, item, f"state {quote(target)} is listed twice")
        elif target is not None:
            targets.append(target)
    return tuple(targets)


def _transfer(r: Reader, node: Node, path: str) -> str | None:
    fields = r.mapping(node, path, ("to",))
    if fields is None:
        return None
    return r.get(fields, path, "to", lambda n, p: _one_of(r, n, p, TRANSFER_TO))


def _modes(r: Reader, node: Node, path: str) -> tuple[str, ...]:
    modes: list[str] = []
    for item_path, item in r.items(node, path, allow_empty=False):
        mode = _one_of(r, item, item_path, ADD_APPROVER_MODES)
        if mode in modes:
            r.fail(item_path, item, f"{quote(mode)} is listed twice")
        elif mode is not None:
            modes.append(mode)
    return tuple(modes)


def _one_of(r: Reader, node: Node, path: str, allowed: tuple[str, ...]) -> str | None:
    value = r.text(node, path)
    if value is not None and value not in allowed:
        r.fail(path, node, f"{quote(value)} is not one of: {', '.join(allowed)}")
        return None
    return value
