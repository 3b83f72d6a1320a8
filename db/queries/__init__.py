"""Queries: functions that take an `AsyncSession` and run in the caller's transaction.

A query may read or write (`db.queries.enterprises.join` adds a membership,
`db.queries.outbox.enqueue` queues rows), but it never begins, commits or rolls back, and never
opens a session: whoever passed the session decides where the transaction starts and ends. So
several queries compose into one commit, and a query never imports `db.session` nor a use case.

A use case is the other kind: a function of a module at the top of `db/` that takes the
sessionmaker (`sessions: Sessions`), opens its own session and owns its transaction, and is what
a handler, a job or a service calls (`db.enrolment.confirm_enrolment` stores the enterprise and
deletes the draft, through `db.queries.enterprises` and `db.queries.drafts`, in one commit).
Code above `db/` that opens a session of its own (the outbox sender, `chat/notify.py`) runs
queries in it the same way.

One idea has one name: `db/queries/broadcasts.py` holds the queries of broadcasts,
`db/broadcasts.py` the use cases that run them; the package says which kind a module holds.
A private helper (`_name`) that only its own module's use cases call may stay beside them.
`pyproject.toml` has import-linter check that nothing here imports `db.session` or a use case.
"""
