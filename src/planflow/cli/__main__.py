"""``python -m planflow.cli``: the same as the ``planflow`` command."""

from planflow.cli import main

raise SystemExit(main())
