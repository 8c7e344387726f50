"""The parts of the library's front door (``planflow.app.Planflow``).

The front door speaks in the names people and programs use: usernames for
people, codes for units, plan ids for plans. It turns them into the ids the
services work with (``names``), calls the services, and turns what they
return into frozen views (``convert``, ``planflow.views``).

Two kinds of part. The areas reached as attributes (``pf.org``,
``pf.content``, ``pf.execution``, ``pf.inspections``, ``pf.inbox``,
``pf.tokens``, ``pf.webhooks``, ``pf.delegations``, ``pf.documents``,
``pf.feeds``, ``pf.admin``), one module each; and the operations on
``Planflow`` itself, one mixin per group (``base`` declares what they share):
``acting`` (create a plan, fire an action, what may be fired),
``gestures`` (urge, return, bulk, handover), ``pages`` (a plan, its page,
the lists, the review queue), ``audit`` (the trail, verifying, exporting)
and ``figures`` (the year's overview, counts). ``plans`` holds the reads of
plans as a user may see them, which ``pages`` and several areas share.
"""
