package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// SelectedPerson is one distinct person of an admin's selection, resolved
// against the replica and the accounts: the facts the invite rules need,
// gathered in one set-based query.
type SelectedPerson struct {
	PK             int64
	UserID         string
	DirectoryID    string
	OrganizationID string
	State          string // directory state: active | inactive | …
	Label          string // name, or email, for lists
	Paths          int    // how many ways the person was selected (directly, via each group)
	// Values holds the mapped account fields (email lower-cased, trimmed).
	Values map[string]string
	// MappedRole is the highest-ranked role of the person's groups ("" when
	// no group maps to a role).
	MappedRole string
	// The matching account (same directory user, or same email in the
	// organisation), 0 when none, with its invitation.
	AccountID        int64
	AccountState     string
	InvitationStatus string // "" when none
	InvitationExpiry time.Time
}

// selectionPicks lists an admin's picks: each selected user (direct = 1)
// and each member of a selected group (direct = 0), a person as many times
// as they were picked. Two placeholders: the admin id twice.
const selectionPicks = `WITH picked(user_id, direct) AS (
		SELECT item_id, 1 FROM selections WHERE admin_id = ? AND kind = 'user'
		UNION ALL
		SELECT m.user_id, 0 FROM selections s JOIN directory_memberships m ON m.group_id = s.item_id
		WHERE s.admin_id = ? AND s.kind = 'group'
	)`

// selectionCTE expands an admin's selection into distinct people, with how
// many ways each one was selected. Two placeholders: the admin id twice.
const selectionCTE = selectionPicks + `,
	people AS (SELECT user_id, count(*) AS paths FROM picked GROUP BY user_id)`

// SelectionSummary is what an admin's selection spans before it is
// resolved: the organisations of its live people, and how many selected
// users are no longer in the directory (deleted since they were selected).
type SelectionSummary struct {
	Organizations []string
	People        map[string]int // distinct live people per organisation
	Gone          int
}

// SelectionSummary reads the summary of an admin's selection.
func (d *DB) SelectionSummary(ctx context.Context, adminID int64) (SelectionSummary, error) {
	return selectionSummary(ctx, d.r, adminID)
}

// SelectionSummaryTx is SelectionSummary in a write transaction.
func SelectionSummaryTx(ctx context.Context, tx Tx, adminID int64) (SelectionSummary, error) {
	return selectionSummary(ctx, tx, adminID)
}

func selectionSummary(ctx context.Context, q queryer, adminID int64) (SelectionSummary, error) {
	// One pass over the picks: each live one counts for its organisation,
	// each selected user (not group member) without a live row is gone.
	rows, err := q.QueryContext(ctx, selectionPicks+`
		SELECT u.organization_id, sum(p.direct), count(DISTINCT p.user_id) FROM picked p
		LEFT JOIN directory_users u ON u.id = p.user_id AND u.deleted_at IS NULL
		GROUP BY u.organization_id ORDER BY 1`, adminID, adminID)
	if err != nil {
		return SelectionSummary{}, fmt.Errorf("db: selection summary: %w", err)
	}
	defer rows.Close()
	out := SelectionSummary{People: map[string]int{}}
	for rows.Next() {
		var org sql.NullString
		var direct, people int
		if err := rows.Scan(&org, &direct, &people); err != nil {
			return SelectionSummary{}, fmt.Errorf("db: selection summary: %w", err)
		}
		if org.Valid {
			out.Organizations = append(out.Organizations, org.String)
			out.People[org.String] = people
		} else {
			out.Gone = direct
		}
	}
	return out, rows.Err()
}

// ResolveSelection resolves the admin's selected people of one organisation,
// mapping each account field through sources (field → source path). fields
// must include "email". Ordered by name. people is how many to expect (the
// summary's count; 0 when unknown): the slice is made that size at once,
// which saved ~20 ms of growing it for 10,000 people.
func (d *DB) ResolveSelection(ctx context.Context, adminID int64, orgID string, fields []string, sources map[string]string, people int) ([]SelectedPerson, error) {
	return resolveSelection(ctx, d.r, adminID, orgID, fields, sources, people)
}

// ResolveSelectionTx is ResolveSelection inside a write transaction, so the
// invite sees exactly what it changes.
func ResolveSelectionTx(ctx context.Context, tx Tx, adminID int64, orgID string, fields []string, sources map[string]string, people int) ([]SelectedPerson, error) {
	return resolveSelection(ctx, tx, adminID, orgID, fields, sources, people)
}

func resolveSelection(ctx context.Context, q queryer, adminID int64, orgID string, fields []string, sources map[string]string, people int) ([]SelectedPerson, error) {
	var cols []string
	var colArgs []any
	emailExpr, emailArgs := "", []any(nil)
	for _, f := range fields {
		e, a, err := SourceExpr(sources[f])
		if err != nil {
			return nil, err
		}
		if f == "email" {
			e = "lower(trim(" + e + "))"
			emailExpr, emailArgs = e, a
		}
		cols = append(cols, e)
		colArgs = append(colArgs, a...)
	}
	if emailExpr == "" {
		return nil, fmt.Errorf("db: resolve selection: no email mapping")
	}
	// The account match: the same directory user first, else the same
	// email in the organisation (both use a unique index).
	// Each lookup is a join, so it runs once per person.
	query := selectionCTE + `
	SELECT u.pk, u.id, u.directory_id, u.organization_id, u.state, u.sort_key,
		COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), NULLIF(u.name, ''), NULLIF(u.email, ''), u.id),
		p.paths, ` + strings.Join(cols, ", ") + `,
		COALESCE((SELECT rm.role_slug FROM directory_memberships m
			JOIN role_mappings rm ON rm.organization_id = u.organization_id AND rm.group_id = m.group_id
			JOIN roles r ON r.slug = rm.role_slug AND r.organization_id IN ('', u.organization_id)
			WHERE m.user_id = u.id ORDER BY r.rank DESC, rm.role_slug LIMIT 1), ''),
		COALESCE(a1.id, a2.id), COALESCE(a1.state, a2.state, ''), COALESCE(i.status, ''), COALESCE(i.expires_at, '')
	FROM people p
	JOIN directory_users u ON u.id = p.user_id AND u.deleted_at IS NULL
	LEFT JOIN accounts a1 ON a1.directory_user_id = u.id
	LEFT JOIN accounts a2 ON a1.id IS NULL AND a2.organization_id = u.organization_id AND a2.email = ` + emailExpr + ` AND a2.email <> ''
	LEFT JOIN invitations i ON i.account_id = COALESCE(a1.id, a2.id)
	WHERE u.organization_id = ?
	ORDER BY u.sort_key, u.id`
	args := []any{adminID, adminID}
	args = append(args, colArgs...)
	args = append(args, emailArgs...)
	args = append(args, orgID)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: resolve selection: %w", err)
	}
	defer rows.Close()
	out := make([]SelectedPerson, 0, max(people, 0))
	var p SelectedPerson
	var sortKey, expires string
	var acct sql.NullInt64
	vals := make([]string, len(fields))
	dst := []any{&p.PK, &p.UserID, &p.DirectoryID, &p.OrganizationID, &p.State, &sortKey, &p.Label, &p.Paths}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	dst = append(dst, &p.MappedRole, &acct, &p.AccountState, &p.InvitationStatus, &expires)
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("db: scan selected person: %w", err)
		}
		p.Values = make(map[string]string, len(fields))
		for i, f := range fields {
			p.Values[f] = vals[i]
		}
		p.AccountID = acct.Int64
		p.InvitationExpiry = parseTS(expires)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ClearSelectionTx empties an admin's selection inside the invite
// transaction.
func ClearSelectionTx(ctx context.Context, tx Tx, adminID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM selections WHERE admin_id = ?`, adminID); err != nil {
		return fmt.Errorf("db: clear selection: %w", err)
	}
	return nil
}
