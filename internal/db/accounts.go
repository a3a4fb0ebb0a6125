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

// Account is a person onboarded into Roster.
type Account struct {
	ID                    int64
	OrganizationID        string
	DirectoryID           string
	DirectoryUserID       string // "" for accounts not from a directory
	Email                 string
	FirstName             string
	LastName              string
	DisplayName           string
	JobTitle              string
	Department            string
	Manager               string
	Location              string
	Phone                 string
	Role                  string
	RoleOverridden        bool
	State                 string // invited | active | suspended | deprovisioned
	LastDirectoryUpdateAt time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
	DirectoryName         string // from the replica, "" when unknown
}

const accountCols = `a.id, a.organization_id, a.directory_id, COALESCE(a.directory_user_id, ''), a.email, a.first_name,
	a.last_name, a.display_name, a.job_title, a.department, a.manager, a.location, a.phone, a.role, a.role_overridden,
	a.state, COALESCE(a.last_directory_update_at, ''), a.created_at, a.updated_at, COALESCE(d.name, '')`

const accountFrom = ` FROM accounts a LEFT JOIN directories d ON d.id = a.directory_id`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var last, created, updated string
	err := row.Scan(&a.ID, &a.OrganizationID, &a.DirectoryID, &a.DirectoryUserID, &a.Email, &a.FirstName, &a.LastName,
		&a.DisplayName, &a.JobTitle, &a.Department, &a.Manager, &a.Location, &a.Phone, &a.Role, &a.RoleOverridden,
		&a.State, &last, &created, &updated, &a.DirectoryName)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("db: scan account: %w", err)
	}
	a.LastDirectoryUpdateAt, a.CreatedAt, a.UpdatedAt = parseTS(last), parseTS(created), parseTS(updated)
	return a, nil
}

// AccountByID finds an account.
func (d *DB) AccountByID(ctx context.Context, id int64) (Account, error) {
	return scanAccount(d.r.QueryRowContext(ctx, `SELECT `+accountCols+accountFrom+` WHERE a.id = ?`, id))
}

// AccountByIDTx finds an account inside a write transaction.
func AccountByIDTx(ctx context.Context, tx Tx, id int64) (Account, error) {
	return scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountCols+accountFrom+` WHERE a.id = ?`, id))
}

// AccountFilter selects accounts; empty fields do not filter.
type AccountFilter struct {
	OrganizationID string
	AllOrgs        bool
	Query          string // substring of email or name, case-insensitive
	State          string
	DirectoryID    string
	Role           string
	BeforeID       int64 // keyset: older than this id
	AfterID        int64 // keyset: newer than this id
	Limit          int
}

func (f AccountFilter) where() (string, []any) {
	var where []string
	var args []any
	if !f.AllOrgs {
		where = append(where, "a.organization_id = ?")
		args = append(args, f.OrganizationID)
	}
	if f.State != "" {
		where = append(where, "a.state = ?")
		args = append(args, f.State)
	}
	if f.DirectoryID != "" {
		where = append(where, "a.directory_id = ?")
		args = append(args, f.DirectoryID)
	}
	if f.Role != "" {
		where = append(where, "a.role = ?")
		args = append(args, f.Role)
	}
	if f.Query != "" {
		q := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		where = append(where, `(a.email LIKE ? ESCAPE '\' OR lower(a.display_name) LIKE ? ESCAPE '\'
			OR lower(a.first_name || ' ' || a.last_name) LIKE ? ESCAPE '\')`)
		args = append(args, q, q, q)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListAccounts returns one page, newest first (see InvitationFilter for
// the keyset convention).
func (d *DB) ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error) {
	w, args := f.where()
	w, args, order, limit := idKeyset(w, args, "a.id", f.BeforeID, f.AfterID, f.Limit)
	out, err := queryAll(ctx, d.r, "accounts", `SELECT `+accountCols+accountFrom+w+` ORDER BY a.id `+order+fmt.Sprintf(" LIMIT %d", limit), args, scanAccount)
	if order == "ASC" {
		slices.Reverse(out)
	}
	return out, err
}

// CountAccounts counts the accounts a filter selects.
func (d *DB) CountAccounts(ctx context.Context, f AccountFilter) (int, error) {
	w, args := f.where()
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM accounts a`+w, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count accounts: %w", err)
	}
	return n, nil
}

// AccountExists reports whether the filter selects an account whose id
// compares with id as cond ("<" or ">"), for pager links.
func (d *DB) AccountExists(ctx context.Context, f AccountFilter, cond string, id int64) (bool, error) {
	if cond != "<" && cond != ">" {
		return false, fmt.Errorf("db: account exists: bad comparison %q", cond)
	}
	w, args := f.where()
	w = andWhere(w, "a.id "+cond+" ?")
	args = append(args, id)
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts a`+w+`)`, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("db: account exists: %w", err)
	}
	return n == 1, nil
}

// StreamAccounts calls fn for every account the filter selects (ignoring
// its paging), oldest first, reading row by row so that memory stays flat
// however many there are. An error from fn stops the stream.
func (d *DB) StreamAccounts(ctx context.Context, f AccountFilter, fn func(Account) error) error {
	w, args := f.where()
	rows, err := d.r.QueryContext(ctx, `SELECT `+accountCols+accountFrom+w+` ORDER BY a.id`, args...)
	if err != nil {
		return fmt.Errorf("db: stream accounts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AccountDirectories lists the directories accounts came from (id, name),
// for the filter control.
func (d *DB) AccountDirectories(ctx context.Context, orgID string, allOrgs bool) ([][2]string, error) {
	q := `SELECT DISTINCT a.directory_id, COALESCE(d.name, a.directory_id)` + accountFrom + ` WHERE a.directory_id <> ''`
	var args []any
	if !allOrgs {
		q += ` AND a.organization_id = ?`
		args = append(args, orgID)
	}
	rows, err := d.r.QueryContext(ctx, q+` ORDER BY 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: account directories: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("db: scan directory: %w", err)
		}
		out = append(out, [2]string{id, name})
	}
	return out, rows.Err()
}

// HistoryEntry is one recorded change of an account.
type HistoryEntry struct {
	ID        int64
	AccountID int64
	At        time.Time
	Field     string
	OldValue  string
	NewValue  string
	EventID   string
	Source    string // invite | directory | admin | invitee
	Actor     string
}

// InsertHistoryTx records a change of an account inside the caller's
// transaction.
func InsertHistoryTx(ctx context.Context, tx Tx, h HistoryEntry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO account_history (account_id, at, field, old_value, new_value, event_id, source, actor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, h.AccountID, ts(h.At), h.Field, h.OldValue, h.NewValue, h.EventID, h.Source, h.Actor)
	if err != nil {
		return fmt.Errorf("db: insert account history: %w", err)
	}
	return nil
}

// AccountHistory returns an account's changes, newest first.
func (d *DB) AccountHistory(ctx context.Context, accountID int64, limit int) ([]HistoryEntry, error) {
	if limit <= 0 {
		limit = 200
	}
	rows, err := d.r.QueryContext(ctx, `SELECT id, account_id, at, field, old_value, new_value, event_id, source, actor
		FROM account_history WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("db: account history: %w", err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var at string
		if err := rows.Scan(&h.ID, &h.AccountID, &at, &h.Field, &h.OldValue, &h.NewValue, &h.EventID, &h.Source, &h.Actor); err != nil {
			return nil, fmt.Errorf("db: scan history: %w", err)
		}
		h.At = parseTS(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

// AccountStateCounts counts accounts by state, every state present.
func (d *DB) AccountStateCounts(ctx context.Context) (map[string]int, error) {
	return d.countsBy(ctx, "account counts", `SELECT state, count(*) FROM accounts GROUP BY state`, nil,
		"invited", "active", "suspended", "deprovisioned")
}

// countsBy runs a query whose rows are (key, count) into a map; the keys in
// zero are present (as 0) even when no row has them. what names the counts
// in errors.
func (d *DB) countsBy(ctx context.Context, what, query string, args []any, zero ...string) (map[string]int, error) {
	rows, err := d.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	out := make(map[string]int, len(zero))
	for _, k := range zero {
		out[k] = 0
	}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("db: scan %s: %w", what, err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return out, nil
}
