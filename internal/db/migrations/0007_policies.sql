-- Policies: how directory changes reach accounts. Per organisation, what a
-- leaver (inactive or deleted in the directory) does to their account, what
-- a re-hire does, and which groups invite their new members automatically;
-- the review queue for what a person must decide; the grace-period
-- suspensions waiting for their time; and a ledger of every account effect
-- (the metrics count it, so a rolled-back page never counts).

CREATE TABLE policies (
    organization_id     TEXT PRIMARY KEY,
    deprovision_action  TEXT NOT NULL DEFAULT 'suspend'
                        CHECK (deprovision_action IN ('suspend', 'suspend_after_grace', 'delete', 'flag')),
    grace_days          INTEGER NOT NULL DEFAULT 7 CHECK (grace_days BETWEEN 1 AND 90),
    reactivation_action TEXT NOT NULL DEFAULT 'restore'
                        CHECK (reactivation_action IN ('restore', 'flag', 'none')),
    updated_by          TEXT NOT NULL DEFAULT '',
    updated_at          TEXT NOT NULL
);

-- A new member of one of these groups gets an account and an invitation
-- without an admin (off unless a row exists).
CREATE TABLE auto_invite_groups (
    organization_id TEXT NOT NULL,
    group_id        TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, group_id)
);

-- Items a person decides: "flag" (a policy asked for review) or "conflict"
-- (the directory and Roster disagree). action/proposed say what approving
-- does (suspend, delete, restore, set_role <slug>, set_email <email>, none).
-- dedupe_key keeps one open item per account and question.
CREATE TABLE review_items (
    id                INTEGER PRIMARY KEY,
    organization_id   TEXT NOT NULL DEFAULT '',
    kind              TEXT NOT NULL CHECK (kind IN ('flag', 'conflict')),
    account_id        INTEGER REFERENCES accounts(id),
    directory_user_id TEXT NOT NULL DEFAULT '',
    event_id          TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL,
    action            TEXT NOT NULL DEFAULT 'none',
    proposed          TEXT NOT NULL DEFAULT '',
    dedupe_key        TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'dismissed')),
    created_at        TEXT NOT NULL,
    decided_by        TEXT NOT NULL DEFAULT '',
    decided_at        TEXT,
    decision_note     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX review_items_org_status ON review_items(organization_id, status, id);
CREATE INDEX review_items_status ON review_items(status, id);
CREATE INDEX review_items_account ON review_items(account_id, status);
CREATE INDEX review_items_key ON review_items(dedupe_key);
CREATE UNIQUE INDEX review_items_open_key ON review_items(dedupe_key) WHERE status = 'open' AND dedupe_key <> '';

-- Suspensions waiting out a grace period. At most one pending per account.
CREATE TABLE scheduled_actions (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id),
    organization_id TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL CHECK (action IN ('suspend')),
    due_at          TEXT NOT NULL,
    event_id        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled')),
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE UNIQUE INDEX scheduled_actions_pending ON scheduled_actions(account_id) WHERE status = 'pending';
CREATE INDEX scheduled_actions_due ON scheduled_actions(status, due_at);

-- One row per effect on an account (update, suspend, delete, restore, role,
-- invite, flag, conflict, scheduled, skipped…), written in the transaction
-- of the effect.
CREATE TABLE account_effects (
    id              INTEGER PRIMARY KEY,
    organization_id TEXT NOT NULL DEFAULT '',
    account_id      INTEGER,
    event_id        TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX account_effects_kind ON account_effects(kind);
