-- Admin Portal setup links per organisation (the latest one; regenerating
-- replaces it). The link is WorkOS's own short-lived URL, not a secret of
-- Roster's, so it is kept as is to show and copy until it expires.
CREATE TABLE org_setup_links (
    organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
    link            TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
