"""The parts of the library's front door (``planflow.app.Planflow``).

The front door speaks in the names people and programs use: usernames for
people, codes for units, plan ids for plans. It turns them into the ids the
services work with (``names``), calls the services, and turns what they
return into frozen views (``convert``, ``planflow.views``). One module per
area the front door offers: ``org``, ``content``, ``execution``,
``inspections``, ``inbox``, and ``plans`` (finding, reading and listing
plans as a user may see them).
"""
