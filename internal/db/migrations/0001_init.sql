-- Foundation: admins, their setup links, settings, organisations, audit log.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- WorkOS organisations known to Roster (ids org_…); allowed_domains is a
-- JSON array of lower-case domains used by the invite preview.
CREATE TABLE organizations (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    allowed_domains TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- organization_id NULL means a platform admin, who sees every organisation.
CREATE TABLE admins (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash   TEXT NOT NULL,
    organization_id TEXT REFERENCES organizations(id),
    session_version INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- One-time links that create an admin: the first admin outside demo mode,
-- and organisation admins invited by a platform admin. Only the hash of the
-- token is stored.
CREATE TABLE admin_setup_links (
    token_hash      TEXT PRIMARY KEY,
    email           TEXT NOT NULL DEFAULT '',
    organization_id TEXT REFERENCES organizations(id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT
);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,          -- admin email, or "sync", "system"
    organization_id TEXT,                   -- NULL: platform-wide
    action          TEXT NOT NULL,          -- e.g. "admin.sign_in", "invite.created"
    target          TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_org_at ON audit_log(organization_id, at);
CREATE INDEX audit_log_action_at ON audit_log(action, at);
