"""Events and tickets: the durable closed loop (tickets, crews, SLA timers, audit, KPIs).

Modules: ``db`` (engines), ``models`` (tables), ``tickets`` (lifecycle), ``sla`` (time limits),
``crews`` (crew suggestion), ``audit`` (hash-chained log), ``roles`` (permissions as data),
``kpi`` (figures for leaders), ``migrations`` (Alembic), ``bench`` (throughput figures).
Nothing is imported here so that importing ``twin.events`` stays cheap.
"""
