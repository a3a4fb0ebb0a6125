-- Directory replica: a local copy of every connected WorkOS directory
-- (directories, users, groups, memberships) kept current by the sync
-- (internal/onboarding), plus the sync's own bookkeeping. Pages read these
-- tables and never wait on the WorkOS API.
--
-- Conventions: timestamps are RFC 3339 text with milliseconds, UTC (db.ts);
-- source_* columns hold WorkOS's own created_at/updated_at; deleted_at marks
-- a tombstone (a row WorkOS deleted) kept so that a late, stale event cannot
-- bring it back. Every live-row query must filter `deleted_at IS NULL`.
-- seen_gen is the load generation (sync_state.generation) that last listed
-- the row: after a full listing, rows of an older generation are gone at the
-- source and become tombstones.

CREATE TABLE directories (
    id                TEXT PRIMARY KEY,               -- directory_…
    organization_id   TEXT NOT NULL DEFAULT '',
    external_key      TEXT NOT NULL DEFAULT '',
    type              TEXT NOT NULL DEFAULT '',
    name              TEXT NOT NULL DEFAULT '',
    domain            TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL DEFAULT '',       -- REST vocabulary: linked, unlinked, …
    source_created_at TEXT NOT NULL DEFAULT '',
    source_updated_at TEXT NOT NULL DEFAULT '',
    deleted_at        TEXT,
    synced_at         TEXT NOT NULL
);
CREATE INDEX directories_org ON directories(organization_id);

-- pk is a stable integer key (the search index's docid); id is WorkOS's id.
-- sort_key orders people by name (see db.UserSortKey); keyset pages use
-- (directory_id, sort_key, id).
CREATE TABLE directory_users (
    pk                INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,           -- directory_user_…
    directory_id      TEXT NOT NULL,
    organization_id   TEXT NOT NULL DEFAULT '',
    idp_id            TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    first_name        TEXT NOT NULL DEFAULT '',
    last_name         TEXT NOT NULL DEFAULT '',
    name              TEXT NOT NULL DEFAULT '',
    username          TEXT NOT NULL DEFAULT '',
    job_title         TEXT NOT NULL DEFAULT '',
    department        TEXT NOT NULL DEFAULT '',
    manager_email     TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL DEFAULT '',       -- active | inactive | suspended
    role              TEXT NOT NULL DEFAULT '',       -- primary role slug
    roles             TEXT NOT NULL DEFAULT '[]',     -- JSON array of role slugs
    emails            TEXT NOT NULL DEFAULT '[]',     -- JSON array of {primary,type,value}
    custom_attributes TEXT NOT NULL DEFAULT '{}',     -- JSON object, as WorkOS sent it
    sort_key          TEXT NOT NULL DEFAULT '',
    source_created_at TEXT NOT NULL DEFAULT '',
    source_updated_at TEXT NOT NULL DEFAULT '',
    last_event_id     TEXT NOT NULL DEFAULT '',       -- '' when last written by a listing
    seen_gen          INTEGER NOT NULL DEFAULT 0,
    deleted_at        TEXT,
    synced_at         TEXT NOT NULL
);
CREATE INDEX directory_users_dir_sort ON directory_users(directory_id, sort_key, id);
CREATE INDEX directory_users_dir_email ON directory_users(directory_id, email);

CREATE TABLE directory_groups (
    pk                INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,           -- directory_group_…
    directory_id      TEXT NOT NULL,
    organization_id   TEXT NOT NULL DEFAULT '',
    idp_id            TEXT NOT NULL DEFAULT '',
    name              TEXT NOT NULL DEFAULT '',
    sort_key          TEXT NOT NULL DEFAULT '',       -- lower(name)
    source_created_at TEXT NOT NULL DEFAULT '',
    source_updated_at TEXT NOT NULL DEFAULT '',
    last_event_id     TEXT NOT NULL DEFAULT '',
    seen_gen          INTEGER NOT NULL DEFAULT 0,
    deleted_at        TEXT,
    synced_at         TEXT NOT NULL
);
CREATE INDEX directory_groups_dir_sort ON directory_groups(directory_id, sort_key, id);

-- Live memberships only (a removed membership is deleted). user_sort_key is
-- a copy of directory_users.sort_key so that a group's members can be paged
-- by name from the index alone; the sync keeps it current on renames.
CREATE TABLE directory_memberships (
    group_id      TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    user_sort_key TEXT NOT NULL DEFAULT '',
    seen_gen      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX directory_memberships_user ON directory_memberships(user_id, group_id);
CREATE INDEX directory_memberships_group_sort ON directory_memberships(group_id, user_sort_key, user_id);
CREATE INDEX directory_memberships_dir ON directory_memberships(directory_id, seen_gen);

-- One row per directory: where its load (backfill or reconcile) stands and
-- where its event stream stands.
CREATE TABLE sync_state (
    directory_id       TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL DEFAULT '',
    phase              TEXT NOT NULL DEFAULT 'groups', -- groups | users | memberships | finish | live | deleted
    mode               TEXT NOT NULL DEFAULT 'backfill', -- backfill | reconcile (the current or last load)
    generation         INTEGER NOT NULL DEFAULT 1,
    page_cursor        TEXT NOT NULL DEFAULT '',    -- `after` of the next page to list in this phase
    group_cursor       TEXT NOT NULL DEFAULT '',    -- memberships phase: the group being listed
    load_started_at    TEXT,
    load_finished_at   TEXT,
    users_done         INTEGER NOT NULL DEFAULT 0,
    users_total        INTEGER NOT NULL DEFAULT 0,  -- 0: unknown
    groups_done        INTEGER NOT NULL DEFAULT 0,
    groups_total       INTEGER NOT NULL DEFAULT 0,
    memberships_done   INTEGER NOT NULL DEFAULT 0,
    changes            INTEGER NOT NULL DEFAULT 0,  -- differences fixed by the current/last reconcile
    search_indexed     INTEGER NOT NULL DEFAULT 0,  -- 1 once the search index holds this directory
    events_cursor      TEXT NOT NULL DEFAULT '',    -- id of the last event read ('' = none yet)
    events_since       TEXT NOT NULL DEFAULT '',    -- range_start to use while events_cursor is ''
    last_event_at      TEXT,                        -- created_at of the last applied event
    last_poll_at       TEXT,
    last_success_at    TEXT,                        -- last poll or load page that worked
    caught_up_at       TEXT,                        -- last poll that reached the end of the stream
    last_error         TEXT NOT NULL DEFAULT '',
    last_error_kind    TEXT NOT NULL DEFAULT '',
    last_error_at      TEXT,
    events_applied     INTEGER NOT NULL DEFAULT 0,
    events_duplicate   INTEGER NOT NULL DEFAULT 0,
    events_stale       INTEGER NOT NULL DEFAULT 0,
    events_failed      INTEGER NOT NULL DEFAULT 0,
    last_reconcile_at  TEXT,
    updated_at         TEXT NOT NULL
);

-- Every event the sync has read, so that a replayed page applies nothing
-- twice. Pruned after the WorkOS retention window.
CREATE TABLE applied_events (
    event_id     TEXT PRIMARY KEY,
    directory_id TEXT NOT NULL,
    type         TEXT NOT NULL,
    outcome      TEXT NOT NULL,                     -- applied | stale | failed
    at           TEXT NOT NULL
);
CREATE INDEX applied_events_at ON applied_events(at);

-- Full-text search over people (FTS4: built into go-sqlite3 without build
-- tags). docid = directory_users.pk. Filled per directory once its first load
-- is done (sync_state.search_indexed = 1), then kept by the triggers below,
-- which only fire when a searched column or the tombstone changes.
-- Query: `directory_user_search MATCH 'ada*'` joined on docid = pk.
CREATE VIRTUAL TABLE directory_user_search USING fts4(
    name, email, job_title, department,
    tokenize=unicode61 "remove_diacritics=2"
);

CREATE TRIGGER directory_users_search_ins AFTER INSERT ON directory_users
WHEN new.deleted_at IS NULL
 AND (SELECT search_indexed FROM sync_state WHERE directory_id = new.directory_id) = 1
BEGIN
    INSERT INTO directory_user_search(docid, name, email, job_title, department)
    VALUES (new.pk, trim(new.first_name || ' ' || new.last_name || ' ' || new.name), new.email, new.job_title, new.department);
END;

CREATE TRIGGER directory_users_search_upd AFTER UPDATE ON directory_users
WHEN (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name
   OR old.name IS NOT new.name OR old.email IS NOT new.email
   OR old.job_title IS NOT new.job_title OR old.department IS NOT new.department
   OR old.deleted_at IS NOT new.deleted_at)
 AND (SELECT search_indexed FROM sync_state WHERE directory_id = new.directory_id) = 1
BEGIN
    DELETE FROM directory_user_search WHERE docid = old.pk;
    INSERT INTO directory_user_search(docid, name, email, job_title, department)
    SELECT new.pk, trim(new.first_name || ' ' || new.last_name || ' ' || new.name), new.email, new.job_title, new.department
    WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER directory_users_search_del AFTER DELETE ON directory_users
BEGIN
    DELETE FROM directory_user_search WHERE docid = old.pk;
END;
