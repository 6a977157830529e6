"""The job queue's SQL, by audience (see docs/architecture.md).

``protocol``: what workers do (claim, heartbeat, fenced writes, rescue); ``commands``:
what operators do (submit, cancel, retry, purge); ``readmodels``: read models (one job,
listings, summary, dashboard); ``parsing``: pure parsing of ids and globs; ``sql``: the
table names and the predicates shared by all of them.
"""
