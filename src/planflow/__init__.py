"""planflow: a workflow and approval engine for hierarchical organisations.

The purity rule: ``planflow.core.definitions``, ``planflow.core.engine``, ``planflow.core.guards``,
``planflow.core.org``, ``planflow.core.content.model``, ``planflow.core.inspection.scoring`` and
``planflow.core.audit_chain`` are plain Python. They import neither a web framework nor
the database layer. Storage (``planflow.storage``), the command line, mail and
the clock are adapters around them; ``planflow.services.plans`` is the one place that
joins them together.
"""

__version__ = "0.1.0"
