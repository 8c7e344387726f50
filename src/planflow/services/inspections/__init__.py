"""Inspections of a plan: rounds, scoring sheets, visits, self-assessment, the calendar."""
