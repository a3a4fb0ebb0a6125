package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Review item kinds, statuses and the actions approving can take.
const (
	ReviewFlag     = "flag"
	ReviewConflict = "conflict"

	ReviewOpen      = "open"
	ReviewApproved  = "approved"
	ReviewDismissed = "dismissed"

	ReviewActionSuspend  = "suspend"
	ReviewActionDelete   = "delete"
	ReviewActionRestore  = "restore"
	ReviewActionSetRole  = "set_role"
	ReviewActionSetEmail = "set_email"
	ReviewActionNone     = "none"
)

// ReviewItem is one question for an admin: a flagged account or a
// conflict between the directory and Roster.
type ReviewItem struct {
	ID              int64
	OrganizationID  string
	Kind            string // flag | conflict
	AccountID       int64  // 0 when not about an account
	DirectoryUserID string
	EventID         string
	Reason          string
	Action          string // what approving does
	Proposed        string // the value approving sets (role slug, email)
	DedupeKey       string
	Status          string // open | approved | dismissed
	CreatedAt       time.Time
	DecidedBy       string
	DecidedAt       time.Time
	DecisionNote    string
	// From the account, for the queue.
	AccountEmail string
	AccountName  string
	AccountState string
}

const reviewCols = `r.id, r.organization_id, r.kind, COALESCE(r.account_id, 0), r.directory_user_id, r.event_id, r.reason,
	r.action, r.proposed, r.dedupe_key, r.status, r.created_at, r.decided_by, COALESCE(r.decided_at, ''), r.decision_note,
	COALESCE(a.email, ''), COALESCE(NULLIF(a.display_name, ''), trim(COALESCE(a.first_name, '') || ' ' || COALESCE(a.last_name, ''))),
	COALESCE(a.state, '')`

const reviewFrom = ` FROM review_items r LEFT JOIN accounts a ON a.id = r.account_id`

func scanReview(row interface{ Scan(...any) error }) (ReviewItem, error) {
	var it ReviewItem
	var created, decided string
	err := row.Scan(&it.ID, &it.OrganizationID, &it.Kind, &it.AccountID, &it.DirectoryUserID, &it.EventID, &it.Reason,
		&it.Action, &it.Proposed, &it.DedupeKey, &it.Status, &created, &it.DecidedBy, &decided, &it.DecisionNote,
		&it.AccountEmail, &it.AccountName, &it.AccountState)
	if errors.Is(err, sql.ErrNoRows) {
		return it, ErrNotFound
	}
	if err != nil {
		return it, fmt.Errorf("db: scan review item: %w", err)
	}
	it.CreatedAt, it.DecidedAt = parseTS(created), parseTS(decided)
	return it, nil
}

// InsertReviewItemTx queues an item. When an open item with the same
// dedupe key exists it adds nothing and returns that item's id with
// created false.
func InsertReviewItemTx(ctx context.Context, tx Tx, it ReviewItem) (id int64, created bool, err error) {
	if it.DedupeKey != "" {
		err := tx.QueryRowContext(ctx, `SELECT id FROM review_items WHERE dedupe_key = ? AND status = 'open'`, it.DedupeKey).Scan(&id)
		if err == nil {
			return id, false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, fmt.Errorf("db: find review item: %w", err)
		}
	}
	if it.Action == "" {
		it.Action = ReviewActionNone
	}
	var acct any
	if it.AccountID > 0 {
		acct = it.AccountID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO review_items (organization_id, kind, account_id, directory_user_id, event_id,
			reason, action, proposed, dedupe_key, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
		it.OrganizationID, it.Kind, acct, it.DirectoryUserID, it.EventID, it.Reason, it.Action, it.Proposed, it.DedupeKey, ts(it.CreatedAt))
	if err != nil {
		return 0, false, fmt.Errorf("db: insert review item: %w", err)
	}
	id, err = res.LastInsertId()
	return id, err == nil, err
}

// ReviewItemByID finds an item.
func (d *DB) ReviewItemByID(ctx context.Context, id int64) (ReviewItem, error) {
	return scanReview(d.r.QueryRowContext(ctx, `SELECT `+reviewCols+reviewFrom+` WHERE r.id = ?`, id))
}

// ReviewItemByIDTx finds an item inside a write transaction.
func ReviewItemByIDTx(ctx context.Context, tx Tx, id int64) (ReviewItem, error) {
	return scanReview(tx.QueryRowContext(ctx, `SELECT `+reviewCols+reviewFrom+` WHERE r.id = ?`, id))
}

// ReviewFilter selects review items; empty fields do not filter.
type ReviewFilter struct {
	OrganizationID string
	AllOrgs        bool
	Status         string
	AccountID      int64
	BeforeID       int64 // keyset: older than this id
	Limit          int
}

func (f ReviewFilter) where() (string, []any) {
	var where []string
	var args []any
	if !f.AllOrgs {
		where = append(where, "r.organization_id = ?")
		args = append(args, f.OrganizationID)
	}
	if f.Status != "" {
		where = append(where, "r.status = ?")
		args = append(args, f.Status)
	}
	if f.AccountID > 0 {
		where = append(where, "r.account_id = ?")
		args = append(args, f.AccountID)
	}
	if f.BeforeID > 0 {
		where = append(where, "r.id < ?")
		args = append(args, f.BeforeID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListReviewItems returns one page of items, newest first.
func (d *DB) ListReviewItems(ctx context.Context, f ReviewFilter) ([]ReviewItem, error) {
	w, args := f.where()
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	return queryAll(ctx, d.r, "review items", `SELECT `+reviewCols+reviewFrom+w+fmt.Sprintf(` ORDER BY r.id DESC LIMIT %d`, limit), args, scanReview)
}

// CountReviewItems counts the items a filter selects (ignoring BeforeID).
func (d *DB) CountReviewItems(ctx context.Context, f ReviewFilter) (int, error) {
	f.BeforeID = 0
	w, args := f.where()
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM review_items r`+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count review items: %w", err)
	}
	return n, nil
}

// DecideReviewItemTx closes an open item as approved or dismissed; it
// reports false, changing nothing, when the item was no longer open.
func DecideReviewItemTx(ctx context.Context, tx Tx, id int64, status, by, note string, now time.Time) (bool, error) {
	if status != ReviewApproved && status != ReviewDismissed {
		return false, fmt.Errorf("db: decide review item: bad status %q", status)
	}
	res, err := tx.ExecContext(ctx, `UPDATE review_items SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?
		WHERE id = ? AND status = 'open'`, status, by, ts(now), note, id)
	if err != nil {
		return false, fmt.Errorf("db: decide review item: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CloseOpenItemsTx dismisses an account's open items that would take one
// of the given actions (they no longer apply), returning how many.
func CloseOpenItemsTx(ctx context.Context, tx Tx, accountID int64, actions []string, by, note string, now time.Time) (int, error) {
	if len(actions) == 0 {
		return 0, nil
	}
	q := `UPDATE review_items SET status = 'dismissed', decided_by = ?, decided_at = ?, decision_note = ?
		WHERE account_id = ? AND status = 'open' AND action IN (?` + strings.Repeat(", ?", len(actions)-1) + `)`
	args := []any{by, ts(now), note, accountID}
	for _, a := range actions {
		args = append(args, a)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("db: close review items: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// OpenReviewCount counts open items across every organisation (metrics).
func (d *DB) OpenReviewCount(ctx context.Context) (map[string]int, error) {
	return d.countsBy(ctx, "open review counts", `SELECT kind, count(*) FROM review_items WHERE status = 'open' GROUP BY kind`, nil,
		ReviewFlag, ReviewConflict)
}

// ReviewKeyUsedTx reports whether any item (open or decided) has the key,
// so that a question answered once is not asked again.
func ReviewKeyUsedTx(ctx context.Context, tx Tx, key string) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM review_items WHERE dedupe_key = ?`, key).Scan(&n); err != nil {
		return false, fmt.Errorf("db: review key: %w", err)
	}
	return n > 0, nil
}

// DeletedDirectory is a deleted directory that still has live accounts
// nobody was asked about.
type DeletedDirectory struct{ ID, Name string }

// DeletedDirectoriesWithAccounts lists deleted directories with accounts
// that are neither deprovisioned nor already flagged for the deletion
// (review key "dirdel:<account id>").
func (d *DB) DeletedDirectoriesWithAccounts(ctx context.Context) ([]DeletedDirectory, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT DISTINCT dir.id, dir.name FROM directories dir
		JOIN accounts a ON a.directory_id = dir.id
		WHERE dir.deleted_at IS NOT NULL AND a.state <> 'deprovisioned'
		  AND NOT EXISTS (SELECT 1 FROM review_items r WHERE r.dedupe_key = 'dirdel:' || a.id)
		ORDER BY dir.id`)
	if err != nil {
		return nil, fmt.Errorf("db: deleted directories: %w", err)
	}
	defer rows.Close()
	var out []DeletedDirectory
	for rows.Next() {
		var x DeletedDirectory
		if err := rows.Scan(&x.ID, &x.Name); err != nil {
			return nil, fmt.Errorf("db: scan directory: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
