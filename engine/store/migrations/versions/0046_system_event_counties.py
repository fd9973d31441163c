"""The counties an event of the system chain is about, so that a county's auditors can read its
staff-list imports and deactivations, and no other county's. Filled for the events already
written: an import by the county its data names; a deactivation, which named none, by the
counties the person holds roles in now (a deactivation keeps the roles).

Revision ID: 0046_system_event_counties
Revises: 0045_checkpoint_heads
"""
import sqlalchemy as sa
from alembic import op

revision = '0046_system_event_counties'
down_revision = '0045_checkpoint_heads'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('system_event_counties',
                            sa.Column('county_id', sa.Integer(), nullable=False),
                            sa.Column('seq', sa.Integer(), nullable=False),
                            sa.ForeignKeyConstraint(['county_id'], ['counties.id']),
                            sa.PrimaryKeyConstraint('county_id', 'seq'))
    bind = op.get_bind()
    events = sa.table('history_events', sa.column('chain'), sa.column('seq'), sa.column('kind'),
                      sa.column('data', sa.JSON()))
    counties: dict[str, int] = dict(bind.execute(sa.text("SELECT name, id FROM counties")).all())
    rows: list[dict[str, int]] = []
    for seq, data in bind.execute(sa.select(events.c.seq, events.c.data)
                                  .where(events.c.chain == 'system', events.c.kind == 'directory_changed')):
        data = data or {}
        found = {counties[data['county']]} if data.get('county') in counties else set()
        usernames = [p.get('username') for p in data.get('people') or [] if isinstance(p, dict)]
        if not found and usernames:
            found = set(bind.execute(sa.text(
                "SELECT DISTINCT COALESCE(g.county_id, s.county_id) FROM role_grants g "
                "JOIN users u ON u.id = g.user_id LEFT JOIN schools s ON s.id = g.school_id "
                "WHERE u.username IN :names").bindparams(sa.bindparam('names', expanding=True)),
                {'names': usernames}).scalars())
        rows += [{'county_id': county_id, 'seq': seq} for county_id in sorted(c for c in found if c is not None)]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table('system_event_counties')
