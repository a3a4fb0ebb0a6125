-- A directory's live groups in id order: the memberships phase of a load
-- asks for the next one after its cursor once per group (NextMembershipGroup),
-- and its progress counts those before the cursor (GroupsBefore). Without
-- this index each call sorted all of the directory's groups.
CREATE INDEX directory_groups_dir_live_id ON directory_groups(directory_id, id) WHERE deleted_at IS NULL;
