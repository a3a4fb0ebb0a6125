-- Selection: the people and groups an admin has picked for onboarding, kept
-- server-side so that it survives paging, searching and reloads. A group
-- stands for its members (resolved when the selection is counted or
-- reviewed, so a membership change is seen). directory_id is copied from
-- the item so that the review can resolve a selection per directory.
CREATE TABLE selections (
    admin_id     INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    item_id      TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    added_at     TEXT NOT NULL,
    PRIMARY KEY (admin_id, kind, item_id)
) WITHOUT ROWID;

-- A user's page lists the directory changes the sync applied to that user
-- (audit_log rows whose target is the user id); without this index that
-- lookup would scan the whole log.
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log(target, id);
