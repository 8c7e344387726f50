"""Services: the core joined to storage.

``plans.PlanService`` is the one path by which a plan changes (load, version
check, engine, persist in one transaction, emit); ``changes`` holds what one
change is and the writers that persist it. Every other service (content,
execution, inspections, accounts, the organisation's administration, the
inbox, the overview) builds on it or only reads. The rules every client
applies live here too: who may see which plan (``visibility``), the review
queue (``review_queue``), where a user may start a plan (``plan_creation``).
The services work with ids; the front door (``planflow.app``) speaks names.
"""
