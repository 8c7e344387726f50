"""Inspection, the pure part: from a filled-in scoring sheet to a grade and a verdict."""
