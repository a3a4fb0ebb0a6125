package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Directory is a replica row of a WorkOS directory.
type Directory struct {
	ID             string
	OrganizationID string
	ExternalKey    string
	Type           string
	Name           string
	Domain         string
	State          string // REST vocabulary: linked, unlinked, …
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      time.Time // zero while the directory exists
}

// DirectoryUser is a replica row of a WorkOS directory user.
type DirectoryUser struct {
	ID               string
	DirectoryID      string
	OrganizationID   string
	IdpID            string
	Email            string
	FirstName        string
	LastName         string
	Name             string
	Username         string
	JobTitle         string
	Department       string
	ManagerEmail     string
	State            string
	Role             string
	Roles            []string
	Emails           json.RawMessage // JSON array, "[]" when none
	CustomAttributes json.RawMessage // JSON object, "{}" when none
	CreatedAt        time.Time       // at the source
	UpdatedAt        time.Time       // at the source
	LastEventID      string          // "" when last written from a listing
	DeletedAt        time.Time       // zero while the user exists
}

// DirectoryGroup is a replica row of a WorkOS directory group.
type DirectoryGroup struct {
	ID             string
	DirectoryID    string
	OrganizationID string
	IdpID          string
	Name           string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastEventID    string
	DeletedAt      time.Time
}

// Membership says a user belongs to a group. UserSortKey is the member's
// UserSortKey, copied so that members can be listed by name from the index.
// DirectoryID is the group's directory (not stored with the membership).
type Membership struct {
	DirectoryID string
	GroupID     string
	UserID      string
	UserSortKey string
}

// Outcomes of applying one event (applied_events.outcome and the counters).
const (
	OutcomeApplied   = "applied"
	OutcomeDuplicate = "duplicate" // already recorded: never stored as an outcome
	OutcomeStale     = "stale"
	OutcomeFailed    = "failed"
)

// Change describes one difference a reconcile found and fixed.
type Change struct {
	Kind   string // user | group | membership
	Op     string // added | updated | removed | restored
	ID     string // user or group id; "group_id/user_id" for a membership
	Detail string // e.g. the changed fields
}

// UserSortKey is the key people are ordered by: last name, first name, then
// email (or the full name when the parts are missing), case-folded. The
// separator sorts below every printable character, so "Li" < "Lim".
func UserSortKey(firstName, lastName, name, email string) string {
	first, last := strings.TrimSpace(firstName), strings.TrimSpace(lastName)
	if first == "" && last == "" {
		last = strings.TrimSpace(name)
	}
	return strings.ToLower(last + "\x1f" + first + "\x1f" + email)
}

// GroupSortKey is the key groups are ordered by.
func GroupSortKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// ReplicaWriter changes the replica inside one write transaction. Its
// statements stay prepared in go-sqlite3's statement cache of the writer
// connection (a page of 100 rows reuses them).
type ReplicaWriter struct {
	ctx context.Context
	tx  Tx
	now string
	// pairIndex: whether directory_memberships_user exists (1), is left
	// out for a first load (-1), or was not looked up yet (0).
	pairIndex int8
}

// Replica returns a writer bound to tx.
//
// Its statements run without ctx's cancellation: go-sqlite3 starts a
// goroutine per statement to watch a cancellable context (database/sql one
// more per query), which cost a backfill more than the statements' own Go
// side. A cancelled ctx still rolls the transaction back (DB.Tx).
func (d *DB) Replica(ctx context.Context, tx Tx) *ReplicaWriter {
	return &ReplicaWriter{ctx: context.WithoutCancel(ctx), tx: tx, now: ts(d.now())}
}

// Tx is the transaction the writer works in (for audit entries and hooks).
func (w *ReplicaWriter) Tx() Tx { return w.tx }

func (w *ReplicaWriter) exec(query string, args ...any) (int64, error) {
	res, err := w.tx.ExecContext(w.ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func tsOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ts(t)
}

func tsOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func jsonOr(raw json.RawMessage, def string) string {
	if len(raw) == 0 || string(raw) == "null" {
		return def
	}
	return string(raw)
}

// UpsertDirectory stores a directory as listed (reviving it if it was marked
// deleted) and makes sure its organisation is known, without renaming one
// that is.
func (w *ReplicaWriter) UpsertDirectory(d Directory) error {
	_, err := w.exec(`INSERT INTO directories (id, organization_id, external_key, type, name, domain, state,
			source_created_at, source_updated_at, deleted_at, synced_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
		ON CONFLICT(id) DO UPDATE SET organization_id = excluded.organization_id, external_key = excluded.external_key,
			type = excluded.type, name = excluded.name, domain = excluded.domain, state = excluded.state,
			source_created_at = excluded.source_created_at, source_updated_at = excluded.source_updated_at,
			deleted_at = NULL, synced_at = excluded.synced_at`,
		d.ID, d.OrganizationID, d.ExternalKey, d.Type, d.Name, d.Domain, d.State,
		tsOrEmpty(d.CreatedAt), tsOrEmpty(d.UpdatedAt), w.now)
	if err != nil {
		return fmt.Errorf("db: upsert directory %s: %w", d.ID, err)
	}
	if d.OrganizationID != "" {
		if _, err := w.exec(`INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(id) DO NOTHING`, d.OrganizationID, d.Name, w.now, w.now); err != nil {
			return fmt.Errorf("db: add organization %s: %w", d.OrganizationID, err)
		}
	}
	return nil
}

// MarkDirectoryDeleted records that WorkOS deleted a directory: the directory,
// its users and groups become tombstones and its memberships go. It reports
// whether anything changed.
func (w *ReplicaWriter) MarkDirectoryDeleted(id string) (bool, error) {
	n, err := w.exec(`UPDATE directories SET deleted_at = ?, synced_at = ? WHERE id = ? AND deleted_at IS NULL`, w.now, w.now, id)
	if err != nil {
		return false, fmt.Errorf("db: delete directory %s: %w", id, err)
	}
	for _, q := range []string{
		`UPDATE directory_users SET deleted_at = ?, synced_at = ? WHERE directory_id = ? AND deleted_at IS NULL`,
		`UPDATE directory_groups SET deleted_at = ?, synced_at = ? WHERE directory_id = ? AND deleted_at IS NULL`,
	} {
		if _, err := w.exec(q, w.now, w.now, id); err != nil {
			return false, fmt.Errorf("db: delete directory %s: %w", id, err)
		}
	}
	if _, err := w.exec(`DELETE FROM directory_memberships WHERE group_id IN
		(SELECT id FROM directory_groups WHERE directory_id = ?)`, id); err != nil {
		return false, fmt.Errorf("db: delete directory %s memberships: %w", id, err)
	}
	return n > 0, nil
}

const userCols = `id, directory_id, organization_id, idp_id, email, first_name, last_name, name, username,
	job_title, department, manager_email, state, role, roles, emails, custom_attributes, sort_key,
	source_created_at, source_updated_at, last_event_id, seen_gen, deleted_at, synced_at`

const userSet = `directory_id = excluded.directory_id, organization_id = excluded.organization_id,
	idp_id = excluded.idp_id, email = excluded.email, first_name = excluded.first_name,
	last_name = excluded.last_name, name = excluded.name, username = excluded.username,
	job_title = excluded.job_title, department = excluded.department, manager_email = excluded.manager_email,
	state = excluded.state, role = excluded.role, roles = excluded.roles, emails = excluded.emails,
	custom_attributes = excluded.custom_attributes, sort_key = excluded.sort_key,
	source_created_at = excluded.source_created_at, source_updated_at = excluded.source_updated_at,
	last_event_id = excluded.last_event_id, seen_gen = excluded.seen_gen, deleted_at = excluded.deleted_at,
	synced_at = excluded.synced_at`

// listUserSQL is the unconditional upsert of a listed user: a listing is the
// truth at the time it is read, so it also revives a tombstone.
const listUserSQL = `INSERT INTO directory_users (` + userCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT(id) DO UPDATE SET ` + userSet

// eventUserSQL is the guarded upsert of a user carried by an event: it never
// revives a tombstone and never replaces data WorkOS updated later.
const eventUserSQL = listUserSQL + `
	WHERE directory_users.deleted_at IS NULL
	  AND excluded.source_updated_at >= directory_users.source_updated_at`

const memberKeySQL = `UPDATE directory_memberships SET user_sort_key = ? WHERE user_id = ? AND user_sort_key <> ?`

func (u *DirectoryUser) args(gen int64, deletedAt any, now string) []any {
	roles, _ := json.Marshal(nonNil(u.Roles))
	return []any{u.ID, u.DirectoryID, u.OrganizationID, u.IdpID, u.Email, u.FirstName, u.LastName, u.Name,
		u.Username, u.JobTitle, u.Department, u.ManagerEmail, u.State, u.Role, string(roles),
		jsonOr(u.Emails, "[]"), jsonOr(u.CustomAttributes, "{}"),
		UserSortKey(u.FirstName, u.LastName, u.Name, u.Email),
		tsOrEmpty(u.CreatedAt), tsOrEmpty(u.UpdatedAt), u.LastEventID, gen, deletedAt, now}
}

func (w *ReplicaWriter) fixMemberKey(u *DirectoryUser) error {
	key := UserSortKey(u.FirstName, u.LastName, u.Name, u.Email)
	if _, err := w.exec(memberKeySQL, key, u.ID, key); err != nil {
		return fmt.Errorf("db: update member sort key of %s: %w", u.ID, err)
	}
	return nil
}

// ListUser stores a user as listed during a load of generation gen.
func (w *ReplicaWriter) ListUser(u DirectoryUser, gen int64) error {
	if err := w.ListNewUser(u, gen); err != nil {
		return err
	}
	return w.fixMemberKey(&u)
}

// ListNewUser is ListUser for a directory's first load, whose memberships
// are listed after its users: there is no membership yet whose copy of the
// user's sort key could need changing.
func (w *ReplicaWriter) ListNewUser(u DirectoryUser, gen int64) error {
	u.LastEventID = ""
	if _, err := w.exec(listUserSQL, u.args(gen, nil, w.now)...); err != nil {
		return fmt.Errorf("db: store user %s: %w", u.ID, err)
	}
	return nil
}

// ListUserDiff is ListUser that first compares with the stored row and
// reports the difference (nil when there is none).
func (w *ReplicaWriter) ListUserDiff(u DirectoryUser, gen int64) (*Change, error) {
	old, err := w.user(u.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err := w.ListUser(u, gen); err != nil {
		return nil, err
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return &Change{Kind: "user", Op: "added", ID: u.ID, Detail: u.Email}, nil
	case !old.DeletedAt.IsZero():
		return &Change{Kind: "user", Op: "restored", ID: u.ID, Detail: u.Email}, nil
	}
	if fields := userDiff(old, u); len(fields) > 0 {
		return &Change{Kind: "user", Op: "updated", ID: u.ID, Detail: strings.Join(fields, ", ")}, nil
	}
	return nil, nil
}

func userDiff(a, b DirectoryUser) []string {
	var out []string
	add := func(name string, x, y string) {
		if x != y {
			out = append(out, name)
		}
	}
	add("email", a.Email, b.Email)
	add("first_name", a.FirstName, b.FirstName)
	add("last_name", a.LastName, b.LastName)
	add("name", a.Name, b.Name)
	add("username", a.Username, b.Username)
	add("job_title", a.JobTitle, b.JobTitle)
	add("department", a.Department, b.Department)
	add("manager_email", a.ManagerEmail, b.ManagerEmail)
	add("state", a.State, b.State)
	add("role", a.Role, b.Role)
	add("idp_id", a.IdpID, b.IdpID)
	ra, _ := json.Marshal(nonNil(a.Roles))
	rb, _ := json.Marshal(nonNil(b.Roles))
	add("roles", string(ra), string(rb))
	add("custom_attributes", canonJSON(a.CustomAttributes, "{}"), canonJSON(b.CustomAttributes, "{}"))
	add("emails", canonJSON(a.Emails, "[]"), canonJSON(b.Emails, "[]"))
	return out
}

// canonJSON re-encodes JSON so that key order and spacing do not count as a
// difference.
func canonJSON(raw json.RawMessage, def string) string {
	s := jsonOr(raw, def)
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// lightUserSQL updates a user whose name and email (the sort key) and
// organisation stay the same: most events change attributes, and leaving
// the key out of the SET list spares SQLite moving the user's entry in the
// people list's index, the organisation its entry in directory_users_live
// (SQLite rewrites an index entry whenever the statement sets one of its
// columns, even to the same value: 8% of the event sync).
// (Leaving out also the listed columns an event did not change was measured
// too: no gain, as a membership event mostly follows its user's own update
// in the same transaction, on pages already written.)
const lightUserSQL = `UPDATE directory_users SET idp_id = ?, first_name = ?, last_name = ?,
	name = ?, username = ?, job_title = ?, department = ?, manager_email = ?, state = ?, role = ?, roles = ?,
	emails = ?, custom_attributes = ?, source_created_at = ?, source_updated_at = ?, last_event_id = ?,
	seen_gen = ?, synced_at = ? WHERE id = ?`

// ApplyUserEvent stores a user carried by a created/updated event, unless
// the stored row is newer (by source updated_at) or a tombstone: then the
// event is stale.
func (w *ReplicaWriter) ApplyUserEvent(u DirectoryUser, gen int64) (string, error) {
	return w.applyUser(u, gen, false)
}

// RefreshUser brings the stored user up to date with the copy a membership
// event carries: only a newer copy is written. An equal one is the version
// the user's own event already stored (a re-org sends user.updated, then
// the memberships with the same user), and rewriting it cost a row and an
// index entry per event.
func (w *ReplicaWriter) RefreshUser(u DirectoryUser, gen int64) error {
	_, err := w.applyUser(u, gen, true)
	return err
}

func (w *ReplicaWriter) applyUser(u DirectoryUser, gen int64, onlyNewer bool) (string, error) {
	var dir, org, key, email, updated string
	var dead bool
	err := w.tx.QueryRowContext(w.ctx, `SELECT directory_id, organization_id, sort_key, email, source_updated_at, deleted_at IS NOT NULL
		FROM directory_users WHERE id = ?`, u.ID).Scan(&dir, &org, &key, &email, &updated, &dead)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := w.exec(listUserSQL, u.args(gen, nil, w.now)...); err != nil {
			return "", fmt.Errorf("db: apply user %s: %w", u.ID, err)
		}
		return OutcomeApplied, nil
	case err != nil:
		return "", fmt.Errorf("db: read user %s: %w", u.ID, err)
	case dead || tsOrEmpty(u.UpdatedAt) < updated || onlyNewer && tsOrEmpty(u.UpdatedAt) == updated:
		return OutcomeStale, nil
	}
	newKey := UserSortKey(u.FirstName, u.LastName, u.Name, u.Email)
	if dir == u.DirectoryID && org == u.OrganizationID && key == newKey && email == u.Email {
		roles, _ := json.Marshal(nonNil(u.Roles))
		_, err := w.exec(lightUserSQL, u.IdpID, u.FirstName, u.LastName, u.Name, u.Username,
			u.JobTitle, u.Department, u.ManagerEmail, u.State, u.Role, string(roles), jsonOr(u.Emails, "[]"),
			jsonOr(u.CustomAttributes, "{}"), tsOrEmpty(u.CreatedAt), tsOrEmpty(u.UpdatedAt), u.LastEventID, gen, w.now, u.ID)
		if err != nil {
			return "", fmt.Errorf("db: apply user %s: %w", u.ID, err)
		}
		return OutcomeApplied, nil
	}
	if _, err := w.exec(eventUserSQL, u.args(gen, nil, w.now)...); err != nil {
		return "", fmt.Errorf("db: apply user %s: %w", u.ID, err)
	}
	return OutcomeApplied, w.fixMemberKey(&u)
}

// DeleteUser makes a user a tombstone (inserting one if the user was never
// seen, so that a late created event cannot bring it back) and removes its
// memberships. Deleting a tombstone again is stale.
func (w *ReplicaWriter) DeleteUser(u DirectoryUser, gen int64) (string, error) {
	n, err := w.exec(listUserSQL+` WHERE directory_users.deleted_at IS NULL`, u.args(gen, w.now, w.now)...)
	if err != nil {
		return "", fmt.Errorf("db: delete user %s: %w", u.ID, err)
	}
	if n == 0 {
		return OutcomeStale, nil
	}
	if _, err := w.exec(`DELETE FROM directory_memberships WHERE user_id = ?`, u.ID); err != nil {
		return "", fmt.Errorf("db: delete memberships of user %s: %w", u.ID, err)
	}
	return OutcomeApplied, nil
}

func (w *ReplicaWriter) user(id string) (DirectoryUser, error) {
	u, err := scanUser(w.tx.QueryRowContext(w.ctx, `SELECT `+userReadCols+` FROM directory_users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return DirectoryUser{}, ErrNotFound
	}
	return u, err
}

const groupCols = `id, directory_id, organization_id, idp_id, name, sort_key, source_created_at, source_updated_at,
	last_event_id, seen_gen, deleted_at, synced_at`

const listGroupSQL = `INSERT INTO directory_groups (` + groupCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT(id) DO UPDATE SET directory_id = excluded.directory_id, organization_id = excluded.organization_id,
		idp_id = excluded.idp_id, name = excluded.name, sort_key = excluded.sort_key,
		source_created_at = excluded.source_created_at, source_updated_at = excluded.source_updated_at,
		last_event_id = excluded.last_event_id, seen_gen = excluded.seen_gen, deleted_at = excluded.deleted_at,
		synced_at = excluded.synced_at`

func (g *DirectoryGroup) args(gen int64, deletedAt any, now string) []any {
	return []any{g.ID, g.DirectoryID, g.OrganizationID, g.IdpID, g.Name, GroupSortKey(g.Name),
		tsOrEmpty(g.CreatedAt), tsOrEmpty(g.UpdatedAt), g.LastEventID, gen, deletedAt, now}
}

// ListGroup stores a group as listed during a load of generation gen.
func (w *ReplicaWriter) ListGroup(g DirectoryGroup, gen int64) error {
	g.LastEventID = ""
	if _, err := w.exec(listGroupSQL, g.args(gen, nil, w.now)...); err != nil {
		return fmt.Errorf("db: store group %s: %w", g.ID, err)
	}
	return nil
}

// ListGroupDiff is ListGroup reporting the difference with the stored row.
func (w *ReplicaWriter) ListGroupDiff(g DirectoryGroup, gen int64) (*Change, error) {
	var name, idp string
	var deleted sql.NullString
	err := w.tx.QueryRowContext(w.ctx, `SELECT name, idp_id, deleted_at FROM directory_groups WHERE id = ?`, g.ID).Scan(&name, &idp, &deleted)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("db: read group %s: %w", g.ID, err)
	}
	if lerr := w.ListGroup(g, gen); lerr != nil {
		return nil, lerr
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &Change{Kind: "group", Op: "added", ID: g.ID, Detail: g.Name}, nil
	case deleted.Valid:
		return &Change{Kind: "group", Op: "restored", ID: g.ID, Detail: g.Name}, nil
	case name != g.Name || idp != g.IdpID:
		return &Change{Kind: "group", Op: "updated", ID: g.ID, Detail: "name: " + name + " → " + g.Name}, nil
	}
	return nil, nil
}

// ApplyGroupEvent stores a group carried by an event unless stale.
func (w *ReplicaWriter) ApplyGroupEvent(g DirectoryGroup, gen int64) (string, error) {
	n, err := w.exec(listGroupSQL+` WHERE directory_groups.deleted_at IS NULL
		AND excluded.source_updated_at >= directory_groups.source_updated_at`, g.args(gen, nil, w.now)...)
	return groupOutcome(g, n, err)
}

// RefreshGroup is RefreshUser for the group a membership event carries.
func (w *ReplicaWriter) RefreshGroup(g DirectoryGroup, gen int64) error {
	n, err := w.exec(listGroupSQL+` WHERE directory_groups.deleted_at IS NULL
		AND excluded.source_updated_at > directory_groups.source_updated_at`, g.args(gen, nil, w.now)...)
	_, err = groupOutcome(g, n, err)
	return err
}

func groupOutcome(g DirectoryGroup, n int64, err error) (string, error) {
	if err != nil {
		return "", fmt.Errorf("db: apply group %s: %w", g.ID, err)
	}
	if n == 0 {
		return OutcomeStale, nil
	}
	return OutcomeApplied, nil
}

// DeleteGroup makes a group a tombstone and removes its memberships.
func (w *ReplicaWriter) DeleteGroup(g DirectoryGroup, gen int64) (string, error) {
	n, err := w.exec(listGroupSQL+` WHERE directory_groups.deleted_at IS NULL`, g.args(gen, w.now, w.now)...)
	if err != nil {
		return "", fmt.Errorf("db: delete group %s: %w", g.ID, err)
	}
	if n == 0 {
		return OutcomeStale, nil
	}
	if _, err := w.exec(`DELETE FROM directory_memberships WHERE group_id = ?`, g.ID); err != nil {
		return "", fmt.Errorf("db: delete memberships of group %s: %w", g.ID, err)
	}
	return OutcomeApplied, nil
}

const addMemberSQL = `INSERT INTO directory_memberships (group_id, user_id, user_sort_key, seen_gen)
	VALUES (?, ?, ?, ?)
	ON CONFLICT(group_id, user_id) DO UPDATE SET user_sort_key = excluded.user_sort_key, seen_gen = excluded.seen_gen
	WHERE directory_memberships.user_sort_key <> excluded.user_sort_key OR directory_memberships.seen_gen <> excluded.seen_gen`

// looseMemberSQL stores a membership while the (member, group) index is
// left out for a first load (DeferIndexes): without that index there is no
// pair to upsert on, so a row already there with the same sort key is kept
// as it is, and the same pair under another sort key (renamed between two
// listings, or added by an event of another directory meanwhile) is
// resolved when the index is built (dedupeMembersSQL).
const looseMemberSQL = `INSERT INTO directory_memberships (group_id, user_id, user_sort_key, seen_gen)
	VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`

// storeMember writes a membership: the upsert on the (member, group)
// index, or looseMemberSQL while a first load has it left out. Every
// membership write goes through here: a live directory's events and
// another directory's reconcile may write while a first load has the
// index out, and the upsert would then fail for want of its target.
func (w *ReplicaWriter) storeMember(m Membership, gen int64) error {
	if w.pairIndex == 0 {
		found, err := indexExists(w.ctx, w.tx, "directory_memberships_user")
		if err != nil {
			return err
		}
		w.pairIndex = -1
		if found {
			w.pairIndex = 1
		}
	}
	q := addMemberSQL
	if w.pairIndex < 0 {
		q = looseMemberSQL
	}
	_, err := w.exec(q, m.GroupID, m.UserID, m.UserSortKey, gen)
	return err
}

// StoreMembership stores a membership as listed during a backfill of
// generation gen: ListMembership without the read that tells whether it is
// new, which only a reconcile needs.
func (w *ReplicaWriter) StoreMembership(m Membership, gen int64) error {
	if err := w.storeMember(m, gen); err != nil {
		return fmt.Errorf("db: store membership %s/%s: %w", m.GroupID, m.UserID, err)
	}
	return nil
}

// ListMembership stores a membership as listed during a load of generation
// gen and reports whether it is new.
func (w *ReplicaWriter) ListMembership(m Membership, gen int64) (bool, error) {
	var one int
	err := w.tx.QueryRowContext(w.ctx, `SELECT 1 FROM directory_memberships WHERE group_id = ? AND user_id = ?`, m.GroupID, m.UserID).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("db: read membership: %w", err)
	}
	if err := w.storeMember(m, gen); err != nil {
		return false, fmt.Errorf("db: store membership %s/%s: %w", m.GroupID, m.UserID, err)
	}
	return one == 0, nil
}

// AddMembership applies a user_added event: stale when the user or the
// group is a tombstone. The membership copies the stored user's sort key,
// which a late event carrying an older copy of the user does not change (a
// group's page finds its members by that key).
func (w *ReplicaWriter) AddMembership(m Membership, gen int64) (string, error) {
	var dead int
	var key sql.NullString // NULL: the user is not stored, the event's copy stays
	if err := w.tx.QueryRowContext(w.ctx, `SELECT (SELECT count(*) FROM directory_users WHERE id = ?1 AND deleted_at IS NOT NULL)
		+ (SELECT count(*) FROM directory_groups WHERE id = ?2 AND deleted_at IS NOT NULL),
		(SELECT sort_key FROM directory_users WHERE id = ?1)`, m.UserID, m.GroupID).Scan(&dead, &key); err != nil {
		return "", fmt.Errorf("db: read membership %s/%s: %w", m.GroupID, m.UserID, err)
	}
	if dead > 0 {
		return OutcomeStale, nil
	}
	if key.Valid {
		m.UserSortKey = key.String
	}
	if err := w.storeMember(m, gen); err != nil {
		return "", fmt.Errorf("db: add membership %s/%s: %w", m.GroupID, m.UserID, err)
	}
	return OutcomeApplied, nil
}

// RemoveMembership applies a user_removed event.
func (w *ReplicaWriter) RemoveMembership(m Membership) (string, error) {
	if _, err := w.exec(`DELETE FROM directory_memberships WHERE group_id = ? AND user_id = ?`, m.GroupID, m.UserID); err != nil {
		return "", fmt.Errorf("db: remove membership %s/%s: %w", m.GroupID, m.UserID, err)
	}
	return OutcomeApplied, nil
}

// Sweep ends a full listing of generation gen: users and groups the listing
// did not see are gone at the source and become tombstones, and memberships
// it did not see are removed. It returns what it removed.
func (w *ReplicaWriter) Sweep(directoryID string, gen int64) ([]Change, error) {
	var out []Change
	collect := func(kind, q string, args ...any) error {
		rows, err := w.tx.QueryContext(w.ctx, q, args...)
		if err != nil {
			return fmt.Errorf("db: sweep %ss: %w", kind, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, detail string
			if err := rows.Scan(&id, &detail); err != nil {
				return fmt.Errorf("db: sweep %ss: %w", kind, err)
			}
			out = append(out, Change{Kind: kind, Op: "removed", ID: id, Detail: detail})
		}
		return rows.Err()
	}
	if err := collect("user", `SELECT id, email FROM directory_users
		WHERE directory_id = ? AND deleted_at IS NULL AND seen_gen < ? ORDER BY id`, directoryID, gen); err != nil {
		return nil, err
	}
	if err := collect("group", `SELECT id, name FROM directory_groups
		WHERE directory_id = ? AND deleted_at IS NULL AND seen_gen < ? ORDER BY id`, directoryID, gen); err != nil {
		return nil, err
	}
	// A directory's memberships are those of its groups.
	const dirMembers = `group_id IN (SELECT id FROM directory_groups WHERE directory_id = ?)`
	if err := collect("membership", `SELECT group_id || '/' || user_id, '' FROM directory_memberships
		WHERE `+dirMembers+` AND seen_gen < ? ORDER BY group_id, user_id`, directoryID, gen); err != nil {
		return nil, err
	}
	for _, q := range []string{
		`UPDATE directory_users SET deleted_at = ?, synced_at = ? WHERE directory_id = ? AND deleted_at IS NULL AND seen_gen < ?`,
		`UPDATE directory_groups SET deleted_at = ?, synced_at = ? WHERE directory_id = ? AND deleted_at IS NULL AND seen_gen < ?`,
	} {
		if _, err := w.tx.ExecContext(w.ctx, q, w.now, w.now, directoryID, gen); err != nil {
			return nil, fmt.Errorf("db: sweep: %w", err)
		}
	}
	// Memberships of tombstoned users or groups go too.
	if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM directory_memberships WHERE `+dirMembers+` AND (seen_gen < ?
		OR user_id IN (SELECT id FROM directory_users WHERE directory_id = ? AND deleted_at IS NOT NULL)
		OR group_id IN (SELECT id FROM directory_groups WHERE directory_id = ? AND deleted_at IS NOT NULL))`,
		directoryID, gen, directoryID, directoryID); err != nil {
		return nil, fmt.Errorf("db: sweep memberships: %w", err)
	}
	return out, nil
}

// LoadIndexes are secondary indexes that the first load into an empty table
// builds once the table is filled instead of entry by entry: rows arrive in
// id order and these indexes are in another order, so keeping them during
// that load costs a random B-tree insert per row, while building one from
// the filled table is a single sorted pass. Measured on the large preset:
// the users phase stored 100k users in 3.3 s without the people list's
// index against 6-9 s with it (the build: about half a second), and the
// memberships phase took 38 s without the two membership indexes against
// 57-67 s with them.
type LoadIndexes struct {
	table   string
	indexes []loadIndex
}

type loadIndex struct {
	name, columns string
	unique        bool
	// dedupe, if set, removes the rows a unique index would refuse; it
	// runs before the index is built.
	dedupe string
}

// The definitions are the migrations' (a test compares them).
var (
	// PeopleIndexes: the people list's index (migration 0010).
	PeopleIndexes = LoadIndexes{"directory_users", []loadIndex{{"directory_users_list",
		"directory_id, sort_key, id, deleted_at, state, email, first_name, last_name, name, job_title, department", false, ""}}}
	// MembershipIndexes: a person's groups, one row per pair (migration
	// 0012; a group's members by name are the table's own key).
	MembershipIndexes = LoadIndexes{"directory_memberships", []loadIndex{
		{"directory_memberships_user", "user_id, group_id", true, dedupeMembersSQL}}}
)

func (l LoadIndexes) createSQL() []string {
	out := make([]string, len(l.indexes))
	for i, ix := range l.indexes {
		kind := "INDEX"
		if ix.unique {
			kind = "UNIQUE INDEX"
		}
		out[i] = "CREATE " + kind + " IF NOT EXISTS " + ix.name + " ON " + l.table + "(" + ix.columns + ")"
	}
	return out
}

// DeferIndexes drops l's indexes when their table is empty (the start of
// the first load into it) and reports whether it did. EnsureIndexes builds
// them again; Open does too, should a load stop in between.
func (w *ReplicaWriter) DeferIndexes(l LoadIndexes) (bool, error) {
	var found bool
	if err := w.tx.QueryRowContext(w.ctx, `SELECT EXISTS (SELECT 1 FROM `+l.table+`)`).Scan(&found); err != nil {
		return false, fmt.Errorf("db: read %s: %w", l.table, err)
	}
	if found {
		return false, nil
	}
	for _, ix := range l.indexes {
		if _, err := w.tx.ExecContext(w.ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return false, fmt.Errorf("db: defer index %s: %w", ix.name, err)
		}
	}
	w.pairIndex = 0
	return true, nil
}

// EnsureIndexes builds those of l's indexes that are missing.
func (w *ReplicaWriter) EnsureIndexes(l LoadIndexes) error {
	w.pairIndex = 0
	return ensureIndexes(w.ctx, w.tx, l)
}

// indexExists reports whether the schema has the index name.
func indexExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (bool, error) {
	var found bool
	if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?)`,
		name).Scan(&found); err != nil {
		return false, fmt.Errorf("db: read schema: %w", err)
	}
	return found, nil
}

// dedupeMembersSQL keeps one row per (group, member) pair before the
// unique index is built: the one whose sort key is the stored user's, else
// the greatest (the next rename event sets it right).
const dedupeMembersSQL = `DELETE FROM directory_memberships WHERE (group_id, user_sort_key, user_id) IN (
	SELECT group_id, user_sort_key, user_id FROM (
		SELECT m.group_id, m.user_sort_key, m.user_id, row_number() OVER (
			PARTITION BY m.group_id, m.user_id
			ORDER BY m.user_sort_key IS (SELECT u.sort_key FROM directory_users u WHERE u.id = m.user_id) DESC,
				m.user_sort_key DESC) AS n
		FROM directory_memberships m
		JOIN (SELECT group_id, user_id FROM directory_memberships GROUP BY group_id, user_id HAVING count(*) > 1) d
			ON d.group_id = m.group_id AND d.user_id = m.user_id)
	WHERE n > 1)`

func ensureIndexes(ctx context.Context, x interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, l LoadIndexes) error {
	for i, q := range l.createSQL() {
		if ix := l.indexes[i]; ix.dedupe != "" {
			found, err := indexExists(ctx, x, ix.name)
			if err != nil {
				return err
			}
			if found {
				continue
			}
			if _, err := x.ExecContext(ctx, ix.dedupe); err != nil {
				return fmt.Errorf("db: remove rows index %s refuses: %w", ix.name, err)
			}
		}
		if _, err := x.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("db: build index on %s: %w", l.table, err)
		}
	}
	return nil
}

// BuildSearchIndex fills the search index with a directory's live people
// and turns on the triggers that keep it current; a directory already
// indexed is left as the triggers keep it. Run it once the first load is
// done: filling the index in bulk is several times cheaper than keeping it
// live during the load. It refuses a directory without a sync state, as
// nothing would then keep the documents in step with the people.
func (w *ReplicaWriter) BuildSearchIndex(directoryID string) error {
	var indexed bool
	if err := w.tx.QueryRowContext(w.ctx, `SELECT search_indexed FROM sync_state WHERE directory_id = ?`, directoryID).Scan(&indexed); err != nil {
		return fmt.Errorf("db: build search index for %s (sync state): %w", directoryID, err)
	}
	if indexed {
		return nil
	}
	for _, q := range []string{
		`INSERT INTO directory_user_search(docid, first_name, last_name, name, email, job_title, department)
			SELECT pk, first_name, last_name, name, email, job_title, department
			FROM directory_users WHERE directory_id = ? AND deleted_at IS NULL ORDER BY pk`,
		`UPDATE sync_state SET search_indexed = 1 WHERE directory_id = ?`,
	} {
		if _, err := w.tx.ExecContext(w.ctx, q, directoryID); err != nil {
			return fmt.Errorf("db: build search index for %s: %w", directoryID, err)
		}
	}
	return nil
}

// ClaimEvent records that an event is being read, with the outcome
// "applied"; it reports false when the event was read before (a duplicate).
// Call SetEventOutcome when the outcome turns out otherwise.
func (w *ReplicaWriter) ClaimEvent(id, directoryID, typ string) (bool, error) {
	n, err := w.exec(`INSERT INTO applied_events (event_id, directory_id, type, outcome, at) VALUES (?, ?, ?, 'applied', ?)
		ON CONFLICT(event_id) DO NOTHING`, id, directoryID, typ, w.now)
	if err != nil {
		return false, fmt.Errorf("db: record event %s: %w", id, err)
	}
	return n == 1, nil
}

// SetEventOutcome corrects the outcome of a claimed event.
func (w *ReplicaWriter) SetEventOutcome(id, outcome string) error {
	if _, err := w.exec(`UPDATE applied_events SET outcome = ? WHERE event_id = ?`, outcome, id); err != nil {
		return fmt.Errorf("db: record event %s: %w", id, err)
	}
	return nil
}

// PruneAppliedEvents forgets events read before t (WorkOS cannot replay
// them any more).
func (d *DB) PruneAppliedEvents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := d.Tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM applied_events WHERE at < ?`, ts(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: prune applied events: %w", err)
	}
	return n, nil
}

const userReadCols = `id, directory_id, organization_id, idp_id, email, first_name, last_name, name, username,
	job_title, department, manager_email, state, role, roles, emails, custom_attributes,
	source_created_at, source_updated_at, last_event_id, COALESCE(deleted_at, '')`

func scanUser(row interface{ Scan(...any) error }) (DirectoryUser, error) {
	var u DirectoryUser
	var roles, emails, custom, created, updated, deleted string
	err := row.Scan(&u.ID, &u.DirectoryID, &u.OrganizationID, &u.IdpID, &u.Email, &u.FirstName, &u.LastName,
		&u.Name, &u.Username, &u.JobTitle, &u.Department, &u.ManagerEmail, &u.State, &u.Role, &roles, &emails,
		&custom, &created, &updated, &u.LastEventID, &deleted)
	if err != nil {
		return DirectoryUser{}, err
	}
	_ = json.Unmarshal([]byte(roles), &u.Roles)
	u.Emails, u.CustomAttributes = json.RawMessage(emails), json.RawMessage(custom)
	u.CreatedAt, u.UpdatedAt, u.DeletedAt = parseTS(created), parseTS(updated), parseTS(deleted)
	return u, nil
}

// DirectoryByID returns a directory of the replica (deleted ones included).
func (d *DB) DirectoryByID(ctx context.Context, id string) (Directory, error) {
	row := d.r.QueryRowContext(ctx, `SELECT id, organization_id, external_key, type, name, domain, state,
		source_created_at, source_updated_at, COALESCE(deleted_at, '') FROM directories WHERE id = ?`, id)
	dir, err := scanDirectory(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Directory{}, ErrNotFound
	}
	if err != nil {
		return Directory{}, fmt.Errorf("db: read directory %s: %w", id, err)
	}
	return dir, nil
}

// ReplicaDirectories returns every directory of the replica by name,
// deleted ones included (DeletedAt set).
func (d *DB) ReplicaDirectories(ctx context.Context) ([]Directory, error) {
	return queryAll(ctx, d.r, "directories", `SELECT id, organization_id, external_key, type, name, domain, state,
		source_created_at, source_updated_at, COALESCE(deleted_at, '') FROM directories ORDER BY name, id`, nil, scanDirectory)
}

func scanDirectory(row interface{ Scan(...any) error }) (Directory, error) {
	var dir Directory
	var created, updated, deleted string
	if err := row.Scan(&dir.ID, &dir.OrganizationID, &dir.ExternalKey, &dir.Type, &dir.Name, &dir.Domain,
		&dir.State, &created, &updated, &deleted); err != nil {
		return Directory{}, err
	}
	dir.CreatedAt, dir.UpdatedAt, dir.DeletedAt = parseTS(created), parseTS(updated), parseTS(deleted)
	return dir, nil
}

// ReplicaSnapshot is the live content of one directory's replica, ordered by
// id; tests compare it with the source.
type ReplicaSnapshot struct {
	Users       []DirectoryUser
	Groups      []DirectoryGroup
	Memberships []Membership // ordered by group, then user
}

// Snapshot reads the live users, groups and memberships of a directory.
func (d *DB) Snapshot(ctx context.Context, directoryID string) (ReplicaSnapshot, error) {
	var s ReplicaSnapshot
	rows, err := d.r.QueryContext(ctx, `SELECT `+userReadCols+` FROM directory_users
		WHERE directory_id = ? AND deleted_at IS NULL ORDER BY id`, directoryID)
	if err != nil {
		return s, fmt.Errorf("db: snapshot users: %w", err)
	}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return s, fmt.Errorf("db: snapshot users: %w", err)
		}
		s.Users = append(s.Users, u)
	}
	rows.Close()
	rows, err = d.r.QueryContext(ctx, `SELECT id, directory_id, organization_id, idp_id, name, source_created_at,
		source_updated_at, last_event_id FROM directory_groups WHERE directory_id = ? AND deleted_at IS NULL ORDER BY id`, directoryID)
	if err != nil {
		return s, fmt.Errorf("db: snapshot groups: %w", err)
	}
	for rows.Next() {
		var g DirectoryGroup
		var created, updated string
		if err := rows.Scan(&g.ID, &g.DirectoryID, &g.OrganizationID, &g.IdpID, &g.Name, &created, &updated, &g.LastEventID); err != nil {
			rows.Close()
			return s, fmt.Errorf("db: snapshot groups: %w", err)
		}
		g.CreatedAt, g.UpdatedAt = parseTS(created), parseTS(updated)
		s.Groups = append(s.Groups, g)
	}
	rows.Close()
	rows, err = d.r.QueryContext(ctx, `SELECT g.directory_id, m.group_id, m.user_id, m.user_sort_key
		FROM directory_groups g JOIN directory_memberships m ON m.group_id = g.id
		WHERE g.directory_id = ? ORDER BY m.group_id, m.user_id`, directoryID)
	if err != nil {
		return s, fmt.Errorf("db: snapshot memberships: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.DirectoryID, &m.GroupID, &m.UserID, &m.UserSortKey); err != nil {
			return s, fmt.Errorf("db: snapshot memberships: %w", err)
		}
		s.Memberships = append(s.Memberships, m)
	}
	return s, rows.Err()
}

// ReplicaCount is the size of one directory's replica.
type ReplicaCount struct {
	DirectoryID string
	Users       int64
	Groups      int64
	Memberships int64
}

// ReplicaCounts returns live row counts per directory (for metrics and the
// sync page).
func (d *DB) ReplicaCounts(ctx context.Context) (map[string]ReplicaCount, error) {
	out := map[string]ReplicaCount{}
	queries := []struct {
		q   string
		set func(*ReplicaCount, int64)
	}{
		{`SELECT directory_id, count(*) FROM directory_users WHERE deleted_at IS NULL GROUP BY directory_id`,
			func(c *ReplicaCount, n int64) { c.Users = n }},
		{`SELECT directory_id, count(*) FROM directory_groups WHERE deleted_at IS NULL GROUP BY directory_id`,
			func(c *ReplicaCount, n int64) { c.Groups = n }},
		{`SELECT g.directory_id, count(*) FROM directory_groups g JOIN directory_memberships m ON m.group_id = g.id
			GROUP BY g.directory_id`,
			func(c *ReplicaCount, n int64) { c.Memberships = n }},
	}
	for _, qq := range queries {
		rows, err := d.r.QueryContext(ctx, qq.q)
		if err != nil {
			return nil, fmt.Errorf("db: replica counts: %w", err)
		}
		for rows.Next() {
			var id string
			var n int64
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("db: replica counts: %w", err)
			}
			c := out[id]
			c.DirectoryID = id
			qq.set(&c, n)
			out[id] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("db: replica counts: %w", err)
		}
	}
	return out, nil
}

// SearchReplicaUsers returns up to limit live users of a directory whose
// name, email, job title or department has words starting with the words
// of q, ordered by name.
func (d *DB) SearchReplicaUsers(ctx context.Context, directoryID, q string, limit int) ([]DirectoryUser, error) {
	match := FTSMatch(q)
	if match == "" {
		return nil, nil
	}
	return queryAll(ctx, d.r, "search users", `SELECT `+userReadCols+` FROM directory_users
		WHERE pk IN (SELECT docid FROM directory_user_search WHERE directory_user_search MATCH ?)
		  AND directory_id = ? AND deleted_at IS NULL
		ORDER BY sort_key, id LIMIT ?`, []any{match, directoryID, limit}, scanUser)
}
