package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Outbox statuses. "sending" is internal to the worker: a row it has claimed
// and is delivering right now.
const (
	EmailPending = "pending"
	EmailSending = "sending"
	EmailSent    = "sent"
	EmailFailed  = "failed"
)

// OutboxEmail is one email job in the outbox table.
type OutboxEmail struct {
	ID             int64
	To             string
	Subject        string
	Text           string
	HTML           string
	Kind           string // e.g. "invitation"
	Ref            string // what the email is about, e.g. an invitation id
	OrganizationID string // "" for platform-wide mail
	Status         string // pending|sent|failed (sending while claimed)
	Attempts       int
	NextAttemptAt  time.Time
	CreatedAt      time.Time
	SentAt         time.Time
	LastError      string
}

// EnqueueEmail adds an email to the outbox inside the caller's transaction,
// so the email exists exactly when the change that causes it does (an
// invitation rolled back sends nothing). Zero CreatedAt means now; zero
// NextAttemptAt means as soon as possible.
func EnqueueEmail(ctx context.Context, tx Tx, m OutboxEmail) error {
	if strings.TrimSpace(m.To) == "" {
		return fmt.Errorf("db: enqueue email: no recipient")
	}
	created := m.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	next := m.NextAttemptAt
	if next.IsZero() {
		next = created
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox(to_addr, subject, text_body, html_body, kind, ref, organization_id,
		status, attempts, next_attempt_at, created_at, last_error)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, '')`,
		m.To, m.Subject, m.Text, m.HTML, m.Kind, m.Ref, nullString(m.OrganizationID), ts(next), ts(created))
	if err != nil {
		return fmt.Errorf("db: enqueue email: %w", err)
	}
	return nil
}

// ClaimDueEmails marks up to limit pending emails whose next attempt is due
// at now as "sending" and returns them, oldest first, in one write
// transaction: two workers (or two ticks) can never claim the same row, so
// the happy path never sends twice. Attempts is incremented by the claim.
func (d *DB) ClaimDueEmails(ctx context.Context, now time.Time, limit int) ([]OutboxEmail, error) {
	if limit <= 0 {
		limit = 10
	}
	var out []OutboxEmail
	err := d.Tx(ctx, func(tx Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox
			WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`, ts(now), limit)
		if err != nil {
			return fmt.Errorf("db: due emails: %w", err)
		}
		out, err = scanOutbox(rows)
		if err != nil {
			return err
		}
		for i := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_at = ?
				WHERE id = ? AND status = 'pending'`, ts(now), out[i].ID); err != nil {
				return fmt.Errorf("db: claim email: %w", err)
			}
			out[i].Status = EmailSending
			out[i].Attempts++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkEmailSent records a delivered email.
func (d *DB) MarkEmailSent(ctx context.Context, id int64, at time.Time) error {
	return d.updateOutbox(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, last_error = '', claimed_at = NULL WHERE id = ?`, ts(at), id)
}

// MarkEmailRetry puts a claimed email back in the queue for another attempt
// at next, keeping the error of the attempt that just failed.
func (d *DB) MarkEmailRetry(ctx context.Context, id int64, next time.Time, lastErr string) error {
	return d.updateOutbox(ctx, `UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, claimed_at = NULL WHERE id = ?`,
		ts(next), lastErr, id)
}

// MarkEmailFailed gives up on an email, keeping the last error.
func (d *DB) MarkEmailFailed(ctx context.Context, id int64, lastErr string) error {
	return d.updateOutbox(ctx, `UPDATE outbox SET status = 'failed', last_error = ?, claimed_at = NULL WHERE id = ?`, lastErr, id)
}

func (d *DB) updateOutbox(ctx context.Context, q string, args ...any) error {
	res, err := d.w.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("db: update outbox: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UnclaimEmail hands a claimed email back untouched (the worker stopped
// before trying it): pending again, and the claim's attempt not counted.
func (d *DB) UnclaimEmail(ctx context.Context, id int64) error {
	return d.updateOutbox(ctx, `UPDATE outbox SET status = 'pending', attempts = max(attempts - 1, 0), claimed_at = NULL
		WHERE id = ? AND status = 'sending'`, id)
}

// ReleaseStaleClaims returns to "pending" every email claimed before
// claimedBefore and never marked: the worker stopped (crash, kill) between
// claim and mark. Such an email may have gone out already; sending it again
// is the accepted price of never losing one. Returns how many were released.
func (d *DB) ReleaseStaleClaims(ctx context.Context, claimedBefore time.Time) (int, error) {
	res, err := d.w.ExecContext(ctx, `UPDATE outbox SET status = 'pending', claimed_at = NULL
		WHERE status = 'sending' AND (claimed_at IS NULL OR claimed_at < ?)`, ts(claimedBefore))
	if err != nil {
		return 0, fmt.Errorf("db: release stale email claims: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// NextEmailDue returns when the earliest pending email is due; ok is false
// when nothing is pending.
func (d *DB) NextEmailDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var s sql.NullString
	if err := d.r.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'`).Scan(&s); err != nil {
		return time.Time{}, false, fmt.Errorf("db: next email due: %w", err)
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	return parseTS(s.String), true, nil
}

// CountEmails returns how many emails have each status.
func (d *DB) CountEmails(ctx context.Context) (map[string]int, error) {
	return d.countsBy(ctx, "email counts", `SELECT status, count(*) FROM outbox GROUP BY status`, nil)
}

// EmailFilter selects outbox rows for listing. Empty fields do not filter.
type EmailFilter struct {
	OrganizationID string // restrict to one organisation
	AllOrgs        bool   // platform view: every organisation
	Status         string
	BeforeID       int64 // keyset: rows older than this id
	Limit          int
}

// ListEmails returns outbox rows newest first.
func (d *DB) ListEmails(ctx context.Context, f EmailFilter) ([]OutboxEmail, error) {
	var where []string
	var args []any
	if !f.AllOrgs {
		where = append(where, "organization_id = ?")
		args = append(args, f.OrganizationID)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	q := `SELECT ` + outboxCols + ` FROM outbox`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list emails: %w", err)
	}
	return scanOutbox(rows)
}

// EmailByID finds one outbox row.
func (d *DB) EmailByID(ctx context.Context, id int64) (OutboxEmail, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id)
	if err != nil {
		return OutboxEmail{}, fmt.Errorf("db: read email: %w", err)
	}
	out, err := scanOutbox(rows)
	if err != nil {
		return OutboxEmail{}, err
	}
	if len(out) == 0 {
		return OutboxEmail{}, ErrNotFound
	}
	return out[0], nil
}

const outboxCols = `id, to_addr, subject, text_body, html_body, kind, ref, COALESCE(organization_id, ''),
	status, attempts, next_attempt_at, created_at, COALESCE(sent_at, ''), last_error`

// scanOutbox reads and closes rows selected with outboxCols.
func scanOutbox(rows *sql.Rows) ([]OutboxEmail, error) {
	defer rows.Close()
	var out []OutboxEmail
	for rows.Next() {
		var m OutboxEmail
		var next, created, sent string
		if err := rows.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Kind, &m.Ref, &m.OrganizationID,
			&m.Status, &m.Attempts, &next, &created, &sent, &m.LastError); err != nil {
			return nil, fmt.Errorf("db: scan email: %w", err)
		}
		m.NextAttemptAt, m.CreatedAt, m.SentAt = parseTS(next), parseTS(created), parseTS(sent)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("db: scan emails: %w", err)
	}
	return out, nil
}
