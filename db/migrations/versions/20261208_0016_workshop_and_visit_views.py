"""workshop and visit views

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 12:00:00

Workshops and visits as SQL for staff and BI tools (docs/data.md), beside the survey views
of 0007: one row per workshop with its RSVP and attendance counts, one per invitation (an
enterprise's RSVP), one per person named for a workshop (without the name), one per visit
with its report. Plain SQL that SQLite and PostgreSQL both run.

As with 0007: a migration that rebuilds a table these views read (workshops,
workshop_invites, workshop_participants, visits, enterprises, users) in SQLite's batch mode
drops them first and creates them again after; adding a column needs nothing.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

VIEWS = ("workshop_overview", "workshop_rsvps", "workshop_attendance", "visit_overview")

# People an enterprise named, per invitation: how many, and of them who came. `attended` is
# NULL until staff or the trainer record it. A boolean works in CASE WHEN on both databases.
_PEOPLE = """
    SELECT invite_id, COUNT(*) AS named,
        COUNT(CASE WHEN attended THEN 1 END) AS attended,
        COUNT(CASE WHEN attended IS NOT NULL THEN 1 END) AS recorded
    FROM workshop_participants GROUP BY invite_id"""

WORKSHOP_OVERVIEW = """
CREATE VIEW workshop_overview AS
WITH answers AS (
    SELECT workshop_id, COUNT(*) AS invited,
        COUNT(CASE WHEN answer = 'attend' THEN 1 END) AS attending,
        COUNT(CASE WHEN answer = 'decline' THEN 1 END) AS declined,
        COUNT(CASE WHEN answer IS NULL THEN 1 END) AS not_answered
    FROM workshop_invites GROUP BY workshop_id
), people AS (
    SELECT i.workshop_id,
        COUNT(CASE WHEN i.answer = 'attend' THEN 1 END) AS named,
        COUNT(CASE WHEN p.attended IS NOT NULL THEN 1 END) AS recorded,
        COUNT(CASE WHEN p.attended THEN 1 END) AS attended,
        COUNT(CASE WHEN p.attended AND p.sex = 'f' THEN 1 END) AS women,
        COUNT(CASE WHEN p.attended AND p.sex = 'm' THEN 1 END) AS men,
        COUNT(CASE WHEN p.attended AND p.kind = 'manager' THEN 1 END) AS managers,
        COUNT(CASE WHEN p.attended AND p.kind = 'worker' THEN 1 END) AS workers,
        COUNT(DISTINCT CASE WHEN p.attended THEN i.enterprise_id END) AS enterprises
    FROM workshop_participants p
    JOIN workshop_invites i ON i.id = p.invite_id
    GROUP BY i.workshop_id
)
SELECT w.id AS workshop_id, w.module, w.province, w.city, w.venue, w.starts_at, w.days,
    w.status, w.created_at, w.cancelled_at,
    COALESCE(a.invited, 0) AS invited, COALESCE(a.attending, 0) AS attending,
    COALESCE(a.declined, 0) AS declined, COALESCE(a.not_answered, 0) AS not_answered,
    COALESCE(p.named, 0) AS people_named, COALESCE(p.recorded, 0) AS people_recorded,
    COALESCE(p.attended, 0) AS people_attended, COALESCE(p.women, 0) AS women_attended,
    COALESCE(p.men, 0) AS men_attended, COALESCE(p.managers, 0) AS managers_attended,
    COALESCE(p.workers, 0) AS workers_attended,
    COALESCE(p.enterprises, 0) AS enterprises_attended
FROM workshops w
LEFT JOIN answers a ON a.workshop_id = w.id
LEFT JOIN people p ON p.workshop_id = w.id
"""

WORKSHOP_RSVPS = f"""
CREATE VIEW workshop_rsvps AS
SELECT i.id AS invite_id, i.workshop_id, w.module, w.city, w.starts_at,
    w.status AS workshop_status, i.enterprise_id, e.name AS enterprise_name, e.province,
    i.invited_at, i.answer, i.answered_at,
    COALESCE(p.named, 0) AS people_named, COALESCE(p.recorded, 0) AS people_recorded,
    COALESCE(p.attended, 0) AS people_attended
FROM workshop_invites i
JOIN workshops w ON w.id = i.workshop_id
JOIN enterprises e ON e.id = i.enterprise_id
LEFT JOIN ({_PEOPLE}
) p ON p.invite_id = i.id
"""

# No name: counts by sex and role are what leaves the bot; the names stay in the table.
WORKSHOP_ATTENDANCE = """
CREATE VIEW workshop_attendance AS
SELECT p.id AS participant_id, i.workshop_id, w.module, w.city, w.starts_at,
    w.status AS workshop_status, i.enterprise_id, e.name AS enterprise_name, e.province,
    i.answer, p.sex, p.kind, p.attended, p.recorded_at
FROM workshop_participants p
JOIN workshop_invites i ON i.id = p.invite_id
JOIN workshops w ON w.id = i.workshop_id
JOIN enterprises e ON e.id = i.enterprise_id
"""

VISIT_OVERVIEW = """
CREATE VIEW visit_overview AS
SELECT v.id AS visit_id, v.enterprise_id, e.name AS enterprise_name, e.province, v.module,
    v.trainer_id, u.name AS trainer_name, v.starts_at, v.status, v.created_at,
    v.reported_at, v.report_done, v.report_next_steps, v.eit_met,
    v.cancelled_at, v.cancel_reason
FROM visits v
JOIN enterprises e ON e.id = v.enterprise_id
LEFT JOIN users u ON u.id = v.trainer_id
"""


def upgrade() -> None:
    """Upgrade schema."""
    for statement in (WORKSHOP_OVERVIEW, WORKSHOP_RSVPS, WORKSHOP_ATTENDANCE, VISIT_OVERVIEW):
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
