"""planflow: a workflow and approval engine for hierarchical organisations.

The purity rule: ``planflow.definitions``, ``planflow.engine``, ``planflow.guards``,
``planflow.org``, ``planflow.content``, ``planflow.inspection`` and
``planflow.audit_chain`` are plain Python. They import neither a web framework nor
the database layer. Storage (``planflow.storage``), the command line, mail and
the clock are adapters around them; ``planflow.service`` is the one place that
joins them together.
"""

__version__ = "0.1.0"
