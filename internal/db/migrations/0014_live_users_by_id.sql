-- Whether a directory user id is live, and in which organisation, from an
-- index alone. The invite's selection summary and the resolution of the
-- selected people look up each person by id; with only the id's own index
-- every lookup also read the person's row, one scattered page of a table
-- whose rows are ~1.3 KB, even for the half of the people that the other
-- half's query (by key parity, also in the index: the rowid) leaves out.
-- Measured with 10,000 selected people on the 100k-user replica: the
-- summary 12.9 → 6.9 ms, the resolution 47 → 42 ms (the build: ~50 ms).
-- Users arrive in id order during a load, so it costs no random inserts.
CREATE INDEX directory_users_live ON directory_users(id, deleted_at, organization_id);
