"""Drawing: pictures made from plain data (the KPI charts, the join poster). Blocking work,
run off the event loop by its callers; it knows nothing of chats or the database."""
