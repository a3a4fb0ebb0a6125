package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Deprovisioning and reactivation actions a policy can choose.
const (
	DeprovisionSuspend      = "suspend"
	DeprovisionSuspendGrace = "suspend_after_grace"
	DeprovisionDelete       = "delete"
	DeprovisionFlag         = "flag"

	ReactivateRestore = "restore"
	ReactivateFlag    = "flag"
	ReactivateNone    = "none"
)

// Policy is an organisation's rules for directory-driven account changes.
type Policy struct {
	OrganizationID string
	Deprovision    string // suspend | suspend_after_grace | delete | flag
	GraceDays      int
	Reactivation   string // restore | flag | none
	UpdatedBy      string
	UpdatedAt      time.Time // zero while the defaults apply
}

// DefaultPolicy is what an organisation gets until it saves its own.
func DefaultPolicy(orgID string) Policy {
	return Policy{OrganizationID: orgID, Deprovision: DeprovisionSuspend, GraceDays: 7, Reactivation: ReactivateRestore}
}

func policy(ctx context.Context, q queryer, orgID string) (Policy, error) {
	p := DefaultPolicy(orgID)
	var at string
	err := q.QueryRowContext(ctx, `SELECT deprovision_action, grace_days, reactivation_action, updated_by, updated_at
		FROM policies WHERE organization_id = ?`, orgID).Scan(&p.Deprovision, &p.GraceDays, &p.Reactivation, &p.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("db: policy: %w", err)
	}
	p.UpdatedAt = parseTS(at)
	return p, nil
}

// PolicyFor returns an organisation's policy (the defaults when unset).
func (d *DB) PolicyFor(ctx context.Context, orgID string) (Policy, error) {
	return policy(ctx, d.r, orgID)
}

// PolicyTx is PolicyFor inside a write transaction.
func PolicyTx(ctx context.Context, tx Tx, orgID string) (Policy, error) {
	return policy(ctx, tx, orgID)
}

// SavePolicy stores an organisation's policy and its auto-invite groups
// (replacing them) in one transaction with the audit entry.
func (d *DB) SavePolicy(ctx context.Context, p Policy, autoGroups []string, audit AuditEntry) error {
	return d.Tx(ctx, func(tx Tx) error {
		at := ts(p.UpdatedAt)
		if _, err := tx.ExecContext(ctx, `INSERT INTO policies (organization_id, deprovision_action, grace_days,
				reactivation_action, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(organization_id) DO UPDATE SET deprovision_action = excluded.deprovision_action,
				grace_days = excluded.grace_days, reactivation_action = excluded.reactivation_action,
				updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			p.OrganizationID, p.Deprovision, p.GraceDays, p.Reactivation, p.UpdatedBy, at); err != nil {
			return fmt.Errorf("db: save policy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM auto_invite_groups WHERE organization_id = ?`, p.OrganizationID); err != nil {
			return fmt.Errorf("db: clear auto-invite groups: %w", err)
		}
		for _, g := range autoGroups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO auto_invite_groups (organization_id, group_id, created_at) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, p.OrganizationID, g, at); err != nil {
				return fmt.Errorf("db: save auto-invite group: %w", err)
			}
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// AutoInviteGroups lists the groups whose new members an organisation
// invites automatically.
func (d *DB) AutoInviteGroups(ctx context.Context, orgID string) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT group_id FROM auto_invite_groups WHERE organization_id = ? ORDER BY group_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("db: auto-invite groups: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("db: scan auto-invite group: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// IsAutoInviteGroupTx reports whether a group of an organisation has the
// auto-invite rule.
func IsAutoInviteGroupTx(ctx context.Context, tx Tx, orgID, groupID string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM auto_invite_groups WHERE organization_id = ? AND group_id = ?`,
		orgID, groupID).Scan(&n); err != nil {
		return false, fmt.Errorf("db: auto-invite rule: %w", err)
	}
	return n > 0, nil
}

// AccountByDirectoryUserTx finds the account of a directory user.
func AccountByDirectoryUserTx(ctx context.Context, tx Tx, userID string) (Account, error) {
	return scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountCols+accountFrom+` WHERE a.directory_user_id = ?`, userID))
}

// AccountByEmailTx finds the account with an email in an organisation.
func AccountByEmailTx(ctx context.Context, tx Tx, orgID, email string) (Account, error) {
	return scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountCols+accountFrom+` WHERE a.organization_id = ? AND a.email = ?`,
		orgID, strings.ToLower(strings.TrimSpace(email))))
}

func queryAccounts(ctx context.Context, tx Tx, where string, args ...any) ([]Account, error) {
	return queryAll(ctx, tx, "accounts", `SELECT `+accountCols+accountFrom+` WHERE `+where+` ORDER BY a.id`, args, scanAccount)
}

// AccountsOfDirectoryTx lists the accounts that came from a directory.
func AccountsOfDirectoryTx(ctx context.Context, tx Tx, dirID string) ([]Account, error) {
	return queryAccounts(ctx, tx, `a.directory_id = ?`, dirID)
}

// DirectoryAccountsWithRoleTx lists an organisation's directory accounts
// holding a role (those a deleted group's mapping may have given it).
func DirectoryAccountsWithRoleTx(ctx context.Context, tx Tx, orgID, role string) ([]Account, error) {
	return queryAccounts(ctx, tx, `a.organization_id = ? AND a.role = ? AND a.directory_user_id IS NOT NULL`, orgID, role)
}

// accountColumns are the account fields a directory may change, with their
// column (the map keeps SQL out of callers' hands).
var accountColumns = map[string]string{
	"email": "email", "first_name": "first_name", "last_name": "last_name", "display_name": "display_name",
	"job_title": "job_title", "department": "department", "manager": "manager", "location": "location", "phone": "phone",
}

// AccountFieldValue reads a mapped field of an account by its key.
func (a Account) AccountFieldValue(field string) string {
	switch field {
	case "email":
		return a.Email
	case "first_name":
		return a.FirstName
	case "last_name":
		return a.LastName
	case "display_name":
		return a.DisplayName
	case "job_title":
		return a.JobTitle
	case "department":
		return a.Department
	case "manager":
		return a.Manager
	case "location":
		return a.Location
	case "phone":
		return a.Phone
	}
	return ""
}

// UpdateAccountFieldsTx sets mapped fields of an account (field key →
// value) and notes the directory update time.
func UpdateAccountFieldsTx(ctx context.Context, tx Tx, id int64, fields map[string]string, now time.Time) error {
	if len(fields) == 0 {
		return nil
	}
	var sets []string
	var args []any
	for f, v := range fields {
		col, ok := accountColumns[f]
		if !ok {
			return fmt.Errorf("db: update account: unknown field %q", f)
		}
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	at := ts(now)
	args = append(args, at, at, id)
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET `+strings.Join(sets, ", ")+`, last_directory_update_at = ?, updated_at = ?
		WHERE id = ?`, args...); err != nil {
		return fmt.Errorf("db: update account %d: %w", id, err)
	}
	return nil
}

// SetAccountStateTx changes an account's state. endSessions bumps its
// session version, which signs the person out everywhere; "deprovisioned"
// also forgets the password.
func SetAccountStateTx(ctx context.Context, tx Tx, id int64, state string, endSessions bool, now time.Time) error {
	q := `UPDATE accounts SET state = ?, updated_at = ?, last_directory_update_at = ?`
	if endSessions {
		q += `, session_version = session_version + 1`
	}
	if state == "deprovisioned" {
		q += `, password_hash = ''`
	}
	at := ts(now)
	if _, err := tx.ExecContext(ctx, q+` WHERE id = ?`, state, at, at, id); err != nil {
		return fmt.Errorf("db: set account %d state: %w", id, err)
	}
	return nil
}

// SetAccountRoleTx sets an account's role and whether an admin chose it.
func SetAccountRoleTx(ctx context.Context, tx Tx, id int64, role string, overridden bool, now time.Time) error {
	over := 0
	if overridden {
		over = 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET role = ?, role_overridden = ?, updated_at = ? WHERE id = ?`,
		role, over, ts(now), id); err != nil {
		return fmt.Errorf("db: set account %d role: %w", id, err)
	}
	return nil
}

// AccountSessionVersionTx reads an account's session version.
func AccountSessionVersionTx(ctx context.Context, tx Tx, id int64) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT session_version FROM accounts WHERE id = ?`, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("db: session version: %w", err)
	}
	return v, nil
}

// RevokePendingInvitationsTx revokes an account's pending invitations and
// returns how many it revoked.
func RevokePendingInvitationsTx(ctx context.Context, tx Tx, accountID int64, now time.Time) (int, error) {
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET status = 'revoked', revoked_at = ? WHERE account_id = ? AND status = 'pending'`,
		ts(now), accountID)
	if err != nil {
		return 0, fmt.Errorf("db: revoke invitations of %d: %w", accountID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// InvitationIDOfAccountTx returns an account's invitation id and stored
// status (ErrNotFound when it has none).
func InvitationIDOfAccountTx(ctx context.Context, tx Tx, accountID int64) (int64, string, error) {
	var id int64
	var st string
	err := tx.QueryRowContext(ctx, `SELECT id, status FROM invitations WHERE account_id = ?`, accountID).Scan(&id, &st)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	if err != nil {
		return 0, "", fmt.Errorf("db: invitation of account: %w", err)
	}
	return id, st, nil
}

// LastStateChangeTx returns the newest state change of an account that
// went to state to (ErrNotFound when none).
func LastStateChangeTx(ctx context.Context, tx Tx, accountID int64, to string) (HistoryEntry, error) {
	var h HistoryEntry
	var at string
	err := tx.QueryRowContext(ctx, `SELECT id, account_id, at, field, old_value, new_value, event_id, source, actor
		FROM account_history WHERE account_id = ? AND field = 'state' AND new_value = ? ORDER BY id DESC LIMIT 1`, accountID, to).
		Scan(&h.ID, &h.AccountID, &at, &h.Field, &h.OldValue, &h.NewValue, &h.EventID, &h.Source, &h.Actor)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, fmt.Errorf("db: last state change: %w", err)
	}
	h.At = parseTS(at)
	return h, nil
}

// HistoryExistsTx reports whether an account already has a history line
// for an event from a source (to record a skipped event only once).
func HistoryExistsTx(ctx context.Context, tx Tx, accountID int64, eventID, source string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM account_history WHERE account_id = ? AND event_id = ? AND source = ?`,
		accountID, eventID, source).Scan(&n); err != nil {
		return false, fmt.Errorf("db: history exists: %w", err)
	}
	return n > 0, nil
}

// MappedUser is a directory user as the account rules see it.
type MappedUser struct {
	UserID         string
	DirectoryID    string
	OrganizationID string
	State          string // directory state
	Deleted        bool   // a tombstone
	Label          string
	Values         map[string]string // account field → mapped value (email lower-cased)
}

func mappedCols(fields []string, sources map[string]string) ([]string, []any, error) {
	var cols []string
	var args []any
	for _, f := range fields {
		e, a, err := SourceExpr(sources[f])
		if err != nil {
			return nil, nil, err
		}
		if f == "email" {
			e = "lower(trim(" + e + "))"
		}
		cols = append(cols, e)
		args = append(args, a...)
	}
	return cols, args, nil
}

// MapUserTx maps a replica user (live or tombstone) through sources
// (account field → source path, see SourceExpr) inside a transaction, so it
// sees the change the transaction just applied.
func MapUserTx(ctx context.Context, tx Tx, userID string, fields []string, sources map[string]string) (MappedUser, error) {
	cols, args, err := mappedCols(fields, sources)
	if err != nil {
		return MappedUser{}, err
	}
	q := `SELECT u.id, u.directory_id, u.organization_id, u.state, u.deleted_at IS NOT NULL,
		COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), NULLIF(u.name, ''), NULLIF(u.email, ''), u.id)`
	if len(cols) > 0 {
		q += ", " + strings.Join(cols, ", ")
	}
	q += ` FROM directory_users u WHERE u.id = ?`
	m := MappedUser{Values: map[string]string{}}
	vals := make([]string, len(fields))
	dst := []any{&m.UserID, &m.DirectoryID, &m.OrganizationID, &m.State, &m.Deleted, &m.Label}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	err = tx.QueryRowContext(ctx, q, append(args, userID)...).Scan(dst...)
	if errors.Is(err, sql.ErrNoRows) {
		return MappedUser{}, ErrNotFound
	}
	if err != nil {
		return MappedUser{}, fmt.Errorf("db: map user %s: %w", userID, err)
	}
	for i, f := range fields {
		m.Values[f] = vals[i]
	}
	return m, nil
}

// MapRowTx maps a directory user that is not stored (e.g. the user as it
// was before an update) with the same expressions as MapUserTx.
func MapRowTx(ctx context.Context, tx Tx, u DirectoryUser, fields []string, sources map[string]string) (map[string]string, error) {
	cols, args, err := mappedCols(fields, sources)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if len(cols) == 0 {
		return out, nil
	}
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM (SELECT ? AS id, ? AS idp_id, ? AS email, ? AS first_name,
		? AS last_name, ? AS name, ? AS username, ? AS job_title, ? AS department, ? AS manager_email, ? AS state,
		? AS role, ? AS custom_attributes) u`
	args = append(args, u.ID, u.IdpID, u.Email, u.FirstName, u.LastName, u.Name, u.Username, u.JobTitle, u.Department,
		u.ManagerEmail, u.State, u.Role, jsonOr(u.CustomAttributes, "{}"))
	vals := make([]string, len(fields))
	dst := make([]any, len(fields))
	for i := range vals {
		dst[i] = &vals[i]
	}
	if err := tx.QueryRowContext(ctx, q, args...).Scan(dst...); err != nil {
		return nil, fmt.Errorf("db: map row: %w", err)
	}
	for i, f := range fields {
		out[f] = vals[i]
	}
	return out, nil
}

// MappedRoleTx is the role a user's groups give them under their
// organisation's group → role mapping: the highest-ranked one, "" when no
// group of theirs maps to a role.
func MappedRoleTx(ctx context.Context, tx Tx, userID, orgID string) (string, error) {
	var role string
	err := tx.QueryRowContext(ctx, `SELECT rm.role_slug FROM directory_memberships m
		JOIN role_mappings rm ON rm.organization_id = ? AND rm.group_id = m.group_id
		JOIN roles r ON r.slug = rm.role_slug AND r.organization_id IN ('', ?)
		WHERE m.user_id = ? ORDER BY r.rank DESC, rm.role_slug LIMIT 1`, orgID, orgID, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("db: mapped role: %w", err)
	}
	return role, nil
}

// GroupRoleTx returns the role an organisation maps a group to ("" none).
func GroupRoleTx(ctx context.Context, tx Tx, orgID, groupID string) (string, error) {
	var role string
	err := tx.QueryRowContext(ctx, `SELECT role_slug FROM role_mappings WHERE organization_id = ? AND group_id = ?`, orgID, groupID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("db: group role: %w", err)
	}
	return role, nil
}

// GroupNameTx returns a group's name, live or tombstone ("" when unknown).
func GroupNameTx(ctx context.Context, tx Tx, groupID string) (string, error) {
	var name string
	err := tx.QueryRowContext(ctx, `SELECT name FROM directory_groups WHERE id = ?`, groupID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("db: group name: %w", err)
	}
	return name, nil
}

// ReplicaUserTx reads a replica user (live or tombstone) in a transaction.
func ReplicaUserTx(ctx context.Context, tx Tx, id string) (DirectoryUser, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userReadCols+` FROM directory_users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return DirectoryUser{}, ErrNotFound
	}
	return u, err
}

// FindOrgUser finds a live directory user of an organisation by id or by
// email (case-insensitive), for the policy simulator.
func (d *DB) FindOrgUser(ctx context.Context, orgID, idOrEmail string) (DirectoryUser, error) {
	v := strings.TrimSpace(idOrEmail)
	u, err := scanUser(d.r.QueryRowContext(ctx, `SELECT `+userReadCols+` FROM directory_users
		WHERE organization_id = ? AND deleted_at IS NULL AND (id = ? OR lower(email) = lower(?)) ORDER BY id LIMIT 1`, orgID, v, v))
	if errors.Is(err, sql.ErrNoRows) {
		return DirectoryUser{}, ErrNotFound
	}
	return u, err
}

// UserGroupIDs lists the ids of the groups a user belongs to.
func (d *DB) UserGroupIDs(ctx context.Context, userID string) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT group_id FROM directory_memberships WHERE user_id = ? ORDER BY group_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("db: user groups: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("db: scan group: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ScheduledAction is a suspension waiting for its grace period to end.
type ScheduledAction struct {
	ID             int64
	AccountID      int64
	OrganizationID string
	Action         string
	DueAt          time.Time
	EventID        string
	Status         string // pending | done | cancelled
	CreatedAt      time.Time
}

// ScheduleActionTx schedules an action unless the account already has a
// pending one; it reports whether it scheduled.
func ScheduleActionTx(ctx context.Context, tx Tx, a ScheduledAction) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO scheduled_actions (account_id, organization_id, action, due_at, event_id, status, created_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING`,
		a.AccountID, a.OrganizationID, a.Action, ts(a.DueAt), a.EventID, ts(a.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("db: schedule action: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PendingActionTx returns an account's pending scheduled action.
func PendingActionTx(ctx context.Context, tx Tx, accountID int64) (ScheduledAction, error) {
	return scanScheduled(tx.QueryRowContext(ctx, `SELECT `+scheduledCols+` FROM scheduled_actions
		WHERE account_id = ? AND status = 'pending'`, accountID))
}

// PendingActionFor returns an account's pending scheduled action, if any.
func (d *DB) PendingActionFor(ctx context.Context, accountID int64) (ScheduledAction, error) {
	return scanScheduled(d.r.QueryRowContext(ctx, `SELECT `+scheduledCols+` FROM scheduled_actions
		WHERE account_id = ? AND status = 'pending'`, accountID))
}

const scheduledCols = `id, account_id, organization_id, action, due_at, event_id, status, created_at`

func scanScheduled(row interface{ Scan(...any) error }) (ScheduledAction, error) {
	var a ScheduledAction
	var due, created string
	err := row.Scan(&a.ID, &a.AccountID, &a.OrganizationID, &a.Action, &due, &a.EventID, &a.Status, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("db: scan scheduled action: %w", err)
	}
	a.DueAt, a.CreatedAt = parseTS(due), parseTS(created)
	return a, nil
}

// FinishActionTx marks a pending action done or cancelled; it reports
// whether it was still pending (a second worker finds it finished).
func FinishActionTx(ctx context.Context, tx Tx, id int64, status string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE scheduled_actions SET status = ?, finished_at = ? WHERE id = ? AND status = 'pending'`,
		status, ts(now), id)
	if err != nil {
		return false, fmt.Errorf("db: finish scheduled action: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DueActions lists pending actions due at now, oldest first.
func (d *DB) DueActions(ctx context.Context, now time.Time, limit int) ([]ScheduledAction, error) {
	return queryAll(ctx, d.r, "due actions", `SELECT `+scheduledCols+` FROM scheduled_actions
		WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`, []any{ts(now), limit}, scanScheduled)
}

// InsertEffectTx records one effect on an account (the metrics count these).
func InsertEffectTx(ctx context.Context, tx Tx, orgID string, accountID int64, eventID, kind string, now time.Time) error {
	var acct any
	if accountID > 0 {
		acct = accountID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_effects (organization_id, account_id, event_id, kind, at) VALUES (?, ?, ?, ?, ?)`,
		orgID, acct, eventID, kind, ts(now)); err != nil {
		return fmt.Errorf("db: record effect: %w", err)
	}
	return nil
}

// EffectCounts counts recorded effects by kind.
func (d *DB) EffectCounts(ctx context.Context) (map[string]int, error) {
	return d.countsBy(ctx, "effect counts", `SELECT kind, count(*) FROM account_effects GROUP BY kind`, nil)
}

// EffectsOfEvent lists the effect kinds an event had, in order (tests and
// the account page use it to show what an event did).
func (d *DB) EffectsOfEvent(ctx context.Context, eventID string) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT kind FROM account_effects WHERE event_id = ? ORDER BY id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("db: effects of event: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// GroupOrganizationTx returns the organisation of a group, live or
// tombstone.
func GroupOrganizationTx(ctx context.Context, tx Tx, groupID string) (string, error) {
	var org string
	err := tx.QueryRowContext(ctx, `SELECT organization_id FROM directory_groups WHERE id = ?`, groupID).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: group organization: %w", err)
	}
	return org, nil
}
