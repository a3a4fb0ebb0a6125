package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Invitation statuses as stored; "expired" is derived (pending, past expiry).
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
)

// InviteBatch is one confirmed invite submit.
type InviteBatch struct {
	ID             int64
	Key            string
	AdminID        int64
	OrganizationID string
	CreatedAt      time.Time
	Counts         string // JSON written by onboarding
}

// BatchByKeyTx finds a batch by idempotency key inside the invite
// transaction (ErrNotFound when there is none).
func BatchByKeyTx(ctx context.Context, tx Tx, key string) (InviteBatch, error) {
	return scanBatch(tx.QueryRowContext(ctx, `SELECT id, idempotency_key, admin_id, organization_id, created_at, counts
		FROM invite_batches WHERE idempotency_key = ?`, key))
}

// BatchByID finds a batch.
func (d *DB) BatchByID(ctx context.Context, id int64) (InviteBatch, error) {
	return scanBatch(d.r.QueryRowContext(ctx, `SELECT id, idempotency_key, admin_id, organization_id, created_at, counts
		FROM invite_batches WHERE id = ?`, id))
}

func scanBatch(row *sql.Row) (InviteBatch, error) {
	var b InviteBatch
	var created string
	err := row.Scan(&b.ID, &b.Key, &b.AdminID, &b.OrganizationID, &created, &b.Counts)
	if errors.Is(err, sql.ErrNoRows) {
		return InviteBatch{}, ErrNotFound
	}
	if err != nil {
		return InviteBatch{}, fmt.Errorf("db: read invite batch: %w", err)
	}
	b.CreatedAt = parseTS(created)
	return b, nil
}

// InsertBatchTx records a batch (its counts are set at the end of the
// transaction with SetBatchCountsTx) and returns its id.
func InsertBatchTx(ctx context.Context, tx Tx, b InviteBatch) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO invite_batches (idempotency_key, admin_id, organization_id, created_at, counts)
		VALUES (?, ?, ?, ?, '{}')`, b.Key, b.AdminID, b.OrganizationID, ts(b.CreatedAt))
	if err != nil {
		return 0, fmt.Errorf("db: insert invite batch: %w", err)
	}
	return res.LastInsertId()
}

// SetBatchCountsTx stores a batch's result.
func SetBatchCountsTx(ctx context.Context, tx Tx, id int64, counts string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE invite_batches SET counts = ? WHERE id = ?`, counts, id); err != nil {
		return fmt.Errorf("db: set batch counts: %w", err)
	}
	return nil
}

// NewInvite is an account to create with its invitation.
type NewInvite struct {
	DirectoryUserID string
	DirectoryID     string
	OrganizationID  string
	Email           string // lower-case
	FirstName       string
	LastName        string
	DisplayName     string
	JobTitle        string
	Department      string
	Manager         string
	Location        string
	Phone           string
	Role            string
	RoleOverridden  bool
	TokenHash       string
}

// CreateInvitesTx creates the accounts (state invited), their invitations
// and a history line each, set-based: multi-row INSERTs of up to
// insertChunk rows through one prepared statement. The write transaction
// holds the tables still, so the new rows take the ids after each table's
// largest, in order (the ids SQLite would pick), and nothing just written is
// read back. It returns each person's invitation id, in order.
func CreateInvitesTx(ctx context.Context, tx Tx, batchID int64, invitedBy string, people []NewInvite, now, expires time.Time) ([]int64, error) {
	if len(people) == 0 {
		return nil, nil
	}
	var lastAccount, lastInvitation int64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COALESCE(max(id), 0) FROM accounts), (SELECT COALESCE(max(id), 0) FROM invitations)`).
		Scan(&lastAccount, &lastInvitation); err != nil {
		return nil, fmt.Errorf("db: create invites: %w", err)
	}
	at := ts(now)
	err := insertRows(ctx, tx, `INSERT INTO accounts (id, directory_user_id, directory_id, organization_id, email,
			first_name, last_name, display_name, job_title, department, manager, location, phone, role, role_overridden, state,
			last_directory_update_at, created_at, updated_at) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'invited', ?, ?, ?)`,
		len(people), func(i int, a []any) []any {
			p := &people[i]
			over := 0
			if p.RoleOverridden {
				over = 1
			}
			return append(a, lastAccount+1+int64(i), p.DirectoryUserID, p.DirectoryID, p.OrganizationID, p.Email, p.FirstName,
				p.LastName, p.DisplayName, p.JobTitle, p.Department, p.Manager, p.Location, p.Phone, p.Role, over, at, at, at)
		})
	if err != nil {
		return nil, fmt.Errorf("db: create accounts: %w", err)
	}
	exp := ts(expires)
	err = insertRows(ctx, tx, `INSERT INTO invitations (id, account_id, organization_id, token_hash, status,
			created_at, expires_at, invited_by, batch_id) VALUES `, `(?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
		len(people), func(i int, a []any) []any {
			return append(a, lastInvitation+1+int64(i), lastAccount+1+int64(i), people[i].OrganizationID, people[i].TokenHash,
				at, exp, invitedBy, batchID)
		})
	if err != nil {
		return nil, fmt.Errorf("db: create invitations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_history (account_id, at, field, old_value, new_value, source, actor)
		SELECT id, ?, 'state', '', 'invited', 'invite', ? FROM accounts WHERE id > ? ORDER BY id`, at, invitedBy, lastAccount); err != nil {
		return nil, fmt.Errorf("db: account history: %w", err)
	}
	ids := make([]int64, len(people))
	for i := range ids {
		ids[i] = lastInvitation + 1 + int64(i)
	}
	return ids, nil
}

// insertChunk bounds the rows of one multi-row INSERT (the widest row has
// 18 placeholders; SQLite allows 32766 per statement).
const insertChunk = 500

// insertRows inserts n rows with multi-row INSERTs: head, then row (its
// placeholders) repeated up to insertChunk times. The full-size statement
// is prepared once. args appends row i's arguments.
//
// Each INSERT runs through Query, not Exec: go-sqlite3 binds a query's
// arguments and steps it in one cgo call, an Exec's with one call per
// argument (9,000 for a chunk of accounts). Query runs the statement at
// once and reports its error; the rows are empty. Paired runs of the
// bench's invite: 319-344 ms against 324-359.
func insertRows(ctx context.Context, tx Tx, head, row string, n int, args func(i int, a []any) []any) error {
	build := func(rows int) string {
		var b strings.Builder
		b.Grow(len(head) + rows*(len(row)+2))
		b.WriteString(head)
		for i := 0; i < rows; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
		}
		return b.String()
	}
	var full *sql.Stmt // the insertChunk-row statement, once prepared
	var a []any
	for lo := 0; lo < n; lo += insertChunk {
		hi := min(lo+insertChunk, n)
		a = a[:0]
		for i := lo; i < hi; i++ {
			a = args(i, a)
		}
		st := full
		if st == nil || hi-lo < insertChunk {
			var err error
			if st, err = tx.PrepareContext(ctx, build(hi-lo)); err != nil {
				return err
			}
			defer st.Close()
			if hi-lo == insertChunk {
				full = st
			}
		}
		rows, err := st.QueryContext(ctx, a...)
		if err != nil {
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Invitation is an invitation with the account it invites.
type Invitation struct {
	ID             int64
	AccountID      int64
	OrganizationID string
	Status         string // pending | accepted | revoked | expired (derived)
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     time.Time
	RevokedAt      time.Time
	ResentAt       time.Time
	ResendCount    int
	InvitedBy      string
	BatchID        int64
	// From the account.
	Email        string
	DisplayName  string
	FirstName    string
	LastName     string
	JobTitle     string
	Department   string
	AccountState string
}

const invitationCols = `i.id, i.account_id, i.organization_id, i.status, i.created_at, i.expires_at,
	COALESCE(i.accepted_at, ''), COALESCE(i.revoked_at, ''), COALESCE(i.resent_at, ''), i.resend_count, i.invited_by,
	COALESCE(i.batch_id, 0), a.email, a.display_name, a.first_name, a.last_name, a.job_title, a.department, a.state`

func scanInvitation(row interface{ Scan(...any) error }, now time.Time) (Invitation, error) {
	var v Invitation
	var created, expires, accepted, revoked, resent string
	err := row.Scan(&v.ID, &v.AccountID, &v.OrganizationID, &v.Status, &created, &expires, &accepted, &revoked, &resent,
		&v.ResendCount, &v.InvitedBy, &v.BatchID, &v.Email, &v.DisplayName, &v.FirstName, &v.LastName, &v.JobTitle,
		&v.Department, &v.AccountState)
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, ErrNotFound
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("db: scan invitation: %w", err)
	}
	v.CreatedAt, v.ExpiresAt = parseTS(created), parseTS(expires)
	v.AcceptedAt, v.RevokedAt, v.ResentAt = parseTS(accepted), parseTS(revoked), parseTS(resent)
	if v.Status == InvitationPending && !now.Before(v.ExpiresAt) {
		v.Status = InvitationExpired
	}
	return v, nil
}

// InvitationByID finds an invitation; expiry is judged at now.
func (d *DB) InvitationByID(ctx context.Context, id int64, now time.Time) (Invitation, error) {
	return scanInvitation(d.r.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations i
		JOIN accounts a ON a.id = i.account_id WHERE i.id = ?`, id), now)
}

// InvitationByTokenHash finds the invitation a token opens.
func (d *DB) InvitationByTokenHash(ctx context.Context, hash string, now time.Time) (Invitation, error) {
	return scanInvitation(d.r.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations i
		JOIN accounts a ON a.id = i.account_id WHERE i.token_hash = ?`, hash), now)
}

// InvitationByAccount finds an account's invitation.
func (d *DB) InvitationByAccount(ctx context.Context, accountID int64, now time.Time) (Invitation, error) {
	return scanInvitation(d.r.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations i
		JOIN accounts a ON a.id = i.account_id WHERE i.account_id = ?`, accountID), now)
}

// InvitationFilter selects invitations; empty fields do not filter.
type InvitationFilter struct {
	OrganizationID string
	AllOrgs        bool
	Status         string // pending | accepted | expired | revoked
	Query          string // substring of email or name
	BatchID        int64
	BeforeID       int64 // keyset: older than this id
	AfterID        int64 // keyset: newer than this id
	Limit          int
	Now            time.Time
}

func (f InvitationFilter) where() (string, []any) {
	var where []string
	var args []any
	if !f.AllOrgs {
		where = append(where, "i.organization_id = ?")
		args = append(args, f.OrganizationID)
	}
	now := ts(f.Now)
	switch f.Status {
	case InvitationPending:
		where = append(where, "i.status = 'pending' AND i.expires_at > ?")
		args = append(args, now)
	case InvitationExpired:
		where = append(where, "i.status = 'pending' AND i.expires_at <= ?")
		args = append(args, now)
	case InvitationAccepted, InvitationRevoked:
		where = append(where, "i.status = ?")
		args = append(args, f.Status)
	}
	if f.Query != "" {
		q := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		where = append(where, `(a.email LIKE ? ESCAPE '\' OR lower(a.display_name) LIKE ? ESCAPE '\'
			OR lower(a.first_name || ' ' || a.last_name) LIKE ? ESCAPE '\')`)
		args = append(args, q, q, q)
	}
	if f.BatchID > 0 {
		where = append(where, "i.batch_id = ?")
		args = append(args, f.BatchID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListInvitations returns one page newest first; with AfterID the page
// just newer than that id (still returned newest first).
func (d *DB) ListInvitations(ctx context.Context, f InvitationFilter) ([]Invitation, error) {
	w, args := f.where()
	w, args, order, limit := idKeyset(w, args, "i.id", f.BeforeID, f.AfterID, f.Limit)
	out, err := queryAll(ctx, d.r, "invitations", `SELECT `+invitationCols+` FROM invitations i JOIN accounts a ON a.id = i.account_id`+
		w+` ORDER BY i.id `+order+fmt.Sprintf(" LIMIT %d", limit), args,
		func(row interface{ Scan(...any) error }) (Invitation, error) { return scanInvitation(row, f.Now) })
	if order == "ASC" {
		slices.Reverse(out)
	}
	return out, err
}

// CountInvitations counts the invitations a filter selects.
func (d *DB) CountInvitations(ctx context.Context, f InvitationFilter) (int, error) {
	w, args := f.where()
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM invitations i JOIN accounts a ON a.id = i.account_id`+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count invitations: %w", err)
	}
	return n, nil
}

// InvitationExists reports whether the filter selects any invitation whose
// id compares with id as cond ("<" or ">"), for pager links.
func (d *DB) InvitationExists(ctx context.Context, f InvitationFilter, cond string, id int64) (bool, error) {
	if cond != "<" && cond != ">" {
		return false, fmt.Errorf("db: invitation exists: bad comparison %q", cond)
	}
	w, args := f.where()
	w = andWhere(w, "i.id "+cond+" ?")
	args = append(args, id)
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM invitations i JOIN accounts a ON a.id = i.account_id`+w+`)`, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("db: invitation exists: %w", err)
	}
	return n == 1, nil
}

// idKeyset adds id-keyset paging to a WHERE clause: entries older than
// before (newest first), or the page just newer than after (read oldest
// first; callers reverse it). A limit of 0 means 50.
func idKeyset(w string, args []any, col string, before, after int64, limit int) (string, []any, string, int) {
	order := "DESC"
	if before > 0 {
		w = andWhere(w, col+" < ?")
		args = append(args, before)
	} else if after > 0 {
		w = andWhere(w, col+" > ?")
		args = append(args, after)
		order = "ASC"
	}
	if limit <= 0 {
		limit = 50
	}
	return w, args, order, limit
}

func andWhere(w, cond string) string {
	if w == "" {
		return " WHERE " + cond
	}
	return w + " AND " + cond
}

// RenewInvitationTx gives an invitation a new token and expiry (a resend):
// the old token stops working at once. Accepted invitations are left
// alone; it reports whether the row changed.
func RenewInvitationTx(ctx context.Context, tx Tx, id int64, hash string, now, expires time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET token_hash = ?, status = 'pending', expires_at = ?, resent_at = ?,
		resend_count = resend_count + 1, revoked_at = NULL WHERE id = ? AND status <> 'accepted'`, hash, ts(expires), ts(now), id)
	if err != nil {
		return false, fmt.Errorf("db: renew invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RevokeInvitationTx revokes a pending invitation; it reports whether the
// row changed.
func RevokeInvitationTx(ctx context.Context, tx Tx, id int64, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET status = 'revoked', revoked_at = ? WHERE id = ? AND status = 'pending'`, ts(now), id)
	if err != nil {
		return false, fmt.Errorf("db: revoke invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AcceptInvitationTx marks a pending, unexpired invitation accepted and
// activates its account with the password hash. It reports false, changing
// nothing, when the invitation is no longer acceptable (a double submit).
func AcceptInvitationTx(ctx context.Context, tx Tx, id, accountID int64, passwordHash string, now time.Time) (bool, error) {
	at := ts(now)
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET status = 'accepted', accepted_at = ?
		WHERE id = ? AND account_id = ? AND status = 'pending' AND expires_at > ?`, at, id, accountID, at)
	if err != nil {
		return false, fmt.Errorf("db: accept invitation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET state = 'active', password_hash = ?, session_version = session_version + 1,
		updated_at = ? WHERE id = ?`, passwordHash, at, accountID); err != nil {
		return false, fmt.Errorf("db: activate account: %w", err)
	}
	return true, nil
}

// InvitationStatusCounts counts invitations by status (with expired apart)
// for the metrics.
func (d *DB) InvitationStatusCounts(ctx context.Context, now time.Time) (map[string]int, error) {
	return d.countsBy(ctx, "invitation counts", `SELECT CASE WHEN status = 'pending' AND expires_at <= ? THEN 'expired' ELSE status END, count(*)
		FROM invitations GROUP BY 1`, []any{ts(now)}, InvitationPending, InvitationAccepted, InvitationRevoked, InvitationExpired)
}

// EnqueueEmailsTx is the bulk form of EnqueueEmail for an invite batch:
// multi-row INSERTs through one prepared statement, which is what keeps a
// 10,000-person invite inside its time budget. Rows are exactly what
// EnqueueEmail writes (pending, due at once).
func EnqueueEmailsTx(ctx context.Context, tx Tx, mails []OutboxEmail, now time.Time) error {
	if len(mails) == 0 {
		return nil
	}
	for _, m := range mails {
		if strings.TrimSpace(m.To) == "" {
			return fmt.Errorf("db: enqueue email: no recipient")
		}
	}
	at := ts(now)
	err := insertRows(ctx, tx, `INSERT INTO outbox (to_addr, subject, text_body, html_body, kind, ref, organization_id,
		status, attempts, next_attempt_at, created_at, last_error) VALUES `, `(?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, '')`,
		len(mails), func(i int, a []any) []any {
			m := &mails[i]
			return append(a, m.To, m.Subject, m.Text, m.HTML, m.Kind, m.Ref, nullString(m.OrganizationID), at, at)
		})
	if err != nil {
		return fmt.Errorf("db: enqueue emails: %w", err)
	}
	return nil
}
