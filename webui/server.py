"""``planflow run``'s web server: the UI on waitress, for one machine.

The command line finds ``serve`` through the ``planflow.servers`` entry point
named ``web`` (so the library never imports Flask). waitress is a
production-quality pure-Python WSGI server, so the one-machine default does
not run on Werkzeug's development server. Deployments with several worker
processes run ``create_app`` under gunicorn instead (see the README).
"""

from __future__ import annotations

import waitress

from planflow.app import Planflow

from . import create_app


def serve(pf: Planflow, host: str, port: int) -> None:
    """Serve the UI for ``pf`` until interrupted."""
    app = create_app({"PLANFLOW": pf})
    print(f"planflow web UI on http://{host}:{port}/", flush=True)
    waitress.serve(app, host=host, port=port, threads=8, ident="planflow")
