"""The worker: a supervisor loop and its collaborators (see docs/architecture.md).

Kept empty on purpose: the forkserver imports ``runtime.child``, and a child needs
none of the supervisor's imports (SQLAlchemy, psycopg).
"""
