"""Services: the core joined to storage.

``plans.PlanService`` is the one path by which a plan changes (load, version
check, engine, persist in one transaction, emit); ``changes`` holds what one
change is and the writers that persist it. Every other service (content,
execution, inspections, accounts, the organisation's administration, the
inbox, the overview, visibility) builds on it or only reads.
"""
