"""The pure core of planflow: what a workflow means, decided in plain Python.

The purity rule, stated here once (the README, the package docstring and
ARCHITECTURE.md point here): every module under ``planflow.core`` imports
only the standard library and these::

    planflow.core, planflow.errors, transitions, yaml

No web framework, no database, no clock, no mail. The core is definitions
(loading, validating, the immutable specs), the engine and its guards, the
organisation tree and role routing, plan content (model, checks, diff, text
import), inspection scoring, the business calendar and task planning, the
audit hash chain and its signed checkpoints (the statement and its checks;
the signing itself is an adapter), and state analysis.

Everything with a side effect is an adapter around it: ``planflow.storage``
(the tables and the fixed statements), ``planflow.services`` (the one
transition path and the features built on it), ``planflow.scheduling``
(timers, rounds, the scheduler process), ``planflow.integrations`` (e-mail,
the signing key, publishing checkpoints) and ``planflow.cli``.
``tests/test_project.py`` walks every import of the core to hold the rule.
"""
