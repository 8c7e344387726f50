"""Time-driven work: the deadline processor, scheduled rounds and the scheduler process.

The database, not APScheduler, is the truth: every effect is keyed in the
database and applied exactly once, however often a timer fires.
"""
