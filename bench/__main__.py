"""``python -m bench w1|w2|w3``: the reference workloads, run from a checkout."""

import sys

from bench.cli import main

sys.exit(main())
