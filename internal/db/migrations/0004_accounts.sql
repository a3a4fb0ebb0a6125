-- Accounts and invitations: the people Roster onboarded from a directory,
-- their invitations, the idempotent invite batches that created them, and
-- the per-organisation settings that shape them (attribute mapping, roles,
-- role mapping, defaults).
--
-- Conventions: timestamps are RFC 3339 text with milliseconds, UTC (db.ts).
-- Emails are stored lower-case, so plain unique indexes give
-- case-insensitive uniqueness on every SQL engine.

CREATE TABLE accounts (
    id                       INTEGER PRIMARY KEY,
    organization_id          TEXT NOT NULL DEFAULT '',
    directory_id             TEXT NOT NULL DEFAULT '',
    directory_user_id        TEXT UNIQUE,              -- NULL for accounts not from a directory
    email                    TEXT NOT NULL,            -- lower-case
    first_name               TEXT NOT NULL DEFAULT '',
    last_name                TEXT NOT NULL DEFAULT '',
    display_name             TEXT NOT NULL DEFAULT '',
    job_title                TEXT NOT NULL DEFAULT '',
    department               TEXT NOT NULL DEFAULT '',
    manager                  TEXT NOT NULL DEFAULT '',
    location                 TEXT NOT NULL DEFAULT '',
    phone                    TEXT NOT NULL DEFAULT '',
    role                     TEXT NOT NULL DEFAULT 'member',
    role_overridden          INTEGER NOT NULL DEFAULT 0,
    state                    TEXT NOT NULL DEFAULT 'invited'
                             CHECK (state IN ('invited', 'active', 'suspended', 'deprovisioned')),
    password_hash            TEXT NOT NULL DEFAULT '',
    session_version          INTEGER NOT NULL DEFAULT 1,
    last_directory_update_at TEXT,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL
);
CREATE UNIQUE INDEX accounts_org_email ON accounts(organization_id, email);
CREATE INDEX accounts_org_id ON accounts(organization_id, id);
CREATE INDEX accounts_state ON accounts(state);

-- Every change to an account: who/what changed which field, and the
-- directory event that caused it (event_id '' when not from an event).
CREATE TABLE account_history (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    at         TEXT NOT NULL,
    field      TEXT NOT NULL,
    old_value  TEXT NOT NULL DEFAULT '',
    new_value  TEXT NOT NULL DEFAULT '',
    event_id   TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL,                          -- invite | directory | admin | invitee
    actor      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX account_history_account ON account_history(account_id, id);

-- One row per confirmed invite submit. The idempotency key comes from the
-- review form, so a double submit or a retry finds the batch and shows its
-- result instead of inviting again. counts is the result page as JSON.
CREATE TABLE invite_batches (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    admin_id        INTEGER NOT NULL,
    organization_id TEXT NOT NULL DEFAULT '',       -- the admin's organisation ('' = platform)
    created_at      TEXT NOT NULL,
    counts          TEXT NOT NULL DEFAULT '{}'
);

-- One invitation per account; a resend replaces the token (the old one
-- stops working) and the expiry on the same row. "expired" is not stored:
-- it is status 'pending' with expires_at in the past.
CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
    organization_id TEXT NOT NULL DEFAULT '',
    token_hash      TEXT NOT NULL UNIQUE,           -- sha256 hex of the token; the token is never stored
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'accepted', 'revoked')),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    accepted_at     TEXT,
    revoked_at      TEXT,
    resent_at       TEXT,
    resend_count    INTEGER NOT NULL DEFAULT 0,
    invited_by      TEXT NOT NULL DEFAULT '',
    batch_id        INTEGER REFERENCES invite_batches(id)
);
CREATE INDEX invitations_org_id ON invitations(organization_id, id);
CREATE INDEX invitations_batch ON invitations(batch_id);

-- Which directory field fills each account field, per organisation. A
-- source is a top-level field (email, first_name, …) or
-- custom_attributes.<dot.path>; several sources separated by " | " are
-- tried in order. Rows override the built-in defaults.
CREATE TABLE attribute_mappings (
    organization_id TEXT NOT NULL,
    account_field   TEXT NOT NULL,
    source_path     TEXT NOT NULL,
    PRIMARY KEY (organization_id, account_field)
);

-- Roles, ordered by rank (higher wins). Rows with organization_id '' are
-- the defaults every organisation has.
CREATE TABLE roles (
    organization_id TEXT NOT NULL DEFAULT '',
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    rank            INTEGER NOT NULL,
    PRIMARY KEY (organization_id, slug)
);
INSERT INTO roles (organization_id, slug, name, rank) VALUES
    ('', 'viewer', 'Viewer', 10),
    ('', 'member', 'Member', 20),
    ('', 'admin', 'Admin', 30);

-- Group → role: a person gets the highest-ranked role of their groups.
CREATE TABLE role_mappings (
    organization_id TEXT NOT NULL,
    group_id        TEXT NOT NULL,
    role_slug       TEXT NOT NULL,
    PRIMARY KEY (organization_id, group_id)
);

CREATE TABLE org_settings (
    organization_id TEXT PRIMARY KEY,
    default_role    TEXT NOT NULL DEFAULT 'member',
    invite_ttl_days INTEGER NOT NULL DEFAULT 0,     -- 0: the service default (7 days)
    updated_at      TEXT NOT NULL
);
