"""``python -m planflow.cli``: the same as the ``planflow`` command."""

from . import main

raise SystemExit(main())
