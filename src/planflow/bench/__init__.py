"""Reference workloads of ``shared/bench/WORKLOAD.md``, each with its floor.

Every figure is reported next to the same work done by hand-written SQL in
the same process and the same run, because on a shared, noisy machine only
ratios measured together mean anything.
"""
