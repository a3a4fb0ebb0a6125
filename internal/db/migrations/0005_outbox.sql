-- Outbox: email jobs written in the same transaction as the change that
-- causes them (e.g. an invitation), delivered later by the sender worker.
-- status: pending (waiting or retrying), sending (claimed by the worker),
-- sent, failed (gave up after the last attempt; last_error kept).
-- In demo mode sent rows are the Mailbox.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL DEFAULT '',
    html_body       TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL DEFAULT '',   -- e.g. "invitation"
    ref             TEXT NOT NULL DEFAULT '',   -- what it is about, e.g. an invitation id
    organization_id TEXT,                       -- NULL: platform-wide
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    last_error      TEXT NOT NULL DEFAULT ''
);
-- The worker's "what is due" scan.
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
-- The Mailbox page: an organisation's mail, newest first.
CREATE INDEX outbox_org_id ON outbox(organization_id, id);

-- The Audit page pages one organisation's entries newest first by id
-- (keyset). audit_log_org_at is ordered by time, which forces a sort of the
-- organisation's whole log for every page; this index (organization_id,
-- then rowid = id) serves the page straight from the index.
CREATE INDEX IF NOT EXISTS audit_log_org_id ON audit_log(organization_id, id);
