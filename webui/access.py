"""The request's organisation, its viewer, and loading the plan a route is about.

Who may see which plan is the library's rule (``planflow.services.visibility``):
this module only keeps, per request, the organisation snapshot and the
signed-in user's ``Viewer`` (both read once a request), and loads plans
through ``Planflow.plan(..., as_user=...)``: a plan that does not exist and
one the user may not see give the same 404, so guessing ids reveals nothing.
"""

from __future__ import annotations

from flask import abort, g

from planflow.app import Planflow
from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound
from planflow.services.visibility import OWN_UNIT_ROLES as OWN_UNIT_ROLES
from planflow.services.visibility import Viewer as Viewer
from planflow.views import PlanView


def org_now(pf: Planflow) -> OrgSnapshot:
    """The current organisation (after a change: read again, not the request's copy)."""
    return pf.org_snapshot()


def current_org(pf: Planflow) -> OrgSnapshot:
    """The organisation of this request (read once per request), the viewer's too."""
    cached = g.get("planflow_org")
    if not isinstance(cached, OrgSnapshot):
        cached = g.planflow_org = org_now(pf)
    return cached


def current_viewer(pf: Planflow, username: str) -> Viewer:
    """What ``username`` may see, in this request's organisation (worked out once)."""
    cached = g.get("planflow_viewer")
    org = current_org(pf)
    if isinstance(cached, Viewer) and cached.user_id == org.user_ids.get(username):
        return cached
    viewer = pf.viewer(username, org)
    g.planflow_viewer = viewer
    return viewer


def visible_plan(pf: Planflow, username: str, plan_id: int) -> PlanView:
    """The plan, or a 404 when it does not exist or ``username`` may not see it."""
    try:
        return pf.plan(plan_id, as_user=username)
    except NotFound:
        abort(404)
