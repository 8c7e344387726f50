"""Reference workloads of ``shared/bench/WORKLOAD.md``, each with its floor.

Every figure is reported next to the same work done by hand-written SQL in
the same process and the same run, because on a shared, noisy machine only
ratios measured together mean anything.

The benchmark is not part of the installed package: it runs from a checkout,
``python -m bench w1|w2|w3`` (``bench.cli``), against the installed planflow.
W1 runs on a definition of its own, ``bench/workflows/w1_annual_plan.yaml``.
"""
