package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
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

// selectionSummarySQL makes one pass over the picks: each live one counts
// for its organisation, each selected user (not group member) without a
// live row is gone. Two placeholders: the admin id twice.
const selectionSummarySQL = selectionPicks + `
	SELECT u.organization_id, sum(p.direct), count(DISTINCT p.user_id) FROM picked p
	LEFT JOIN directory_users u ON u.id = p.user_id AND u.deleted_at IS NULL
	GROUP BY u.organization_id ORDER BY 1`

// SelectionSummary reads the summary of an admin's selection. The invite
// reads it inside its write transaction, through the read pool like the
// resolution (see ResolveSelection): on the writer's connection its 10,000
// lookups also filled the writer's page cache with pages the inserts then
// had to evict (paired bench invite runs: means 266 against 275 ms).
func (d *DB) SelectionSummary(ctx context.Context, adminID int64) (SelectionSummary, error) {
	rows, err := d.r.QueryContext(ctx, selectionSummarySQL, adminID, adminID)
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
// summary's count; 0 when unknown): the slices are made that size at once,
// which saved ~20 ms of growing them for 10,000 people.
//
// The people are resolved in two halves at once, on two read connections
// (by the parity of their replica key), and the two name-ordered halves
// merged: each person costs a dozen scattered B-tree lookups, work the
// second core otherwise leaves undone. 10,000 people on the bench's
// replica: 57 ms in one query, 32-35 ms in two.
//
// The invite calls it inside its write transaction, before it writes
// anything the resolution reads: a read transaction begun while the write
// lock is held sees the last commit, which is what the writer sees.
func (d *DB) ResolveSelection(ctx context.Context, adminID int64, orgID string, fields []string, sources map[string]string, people int) ([]SelectedPerson, error) {
	query, args, err := resolveQuery(fields, sources)
	if err != nil {
		return nil, err
	}
	args = append([]any{adminID, adminID}, args...)
	var halves [2]resolvedHalf
	var wg sync.WaitGroup
	for parity := range halves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			halves[parity] = resolveHalf(ctx, d.r, query, append(args, orgID, parity), fields, people/2+1)
		}()
	}
	wg.Wait()
	if err := errors.Join(halves[0].err, halves[1].err); err != nil {
		return nil, err
	}
	return mergeHalves(halves[0], halves[1]), nil
}

// resolveQuery builds the resolution of one organisation's selected people
// of one parity; its placeholders are the admin id twice, then the returned
// arguments, then the organisation and the parity (0 or 1).
func resolveQuery(fields []string, sources map[string]string) (string, []any, error) {
	var cols []string
	var colArgs []any
	emailExpr, emailArgs := "", []any(nil)
	for _, f := range fields {
		e, a, err := SourceExpr(sources[f])
		if err != nil {
			return "", nil, err
		}
		if f == "email" {
			e = "lower(trim(" + e + "))"
			emailExpr, emailArgs = e, a
		}
		cols = append(cols, e)
		colArgs = append(colArgs, a...)
	}
	if emailExpr == "" {
		return "", nil, fmt.Errorf("db: resolve selection: no email mapping")
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
	WHERE u.organization_id = ? AND u.pk % 2 = ?
	ORDER BY u.sort_key, u.id`
	return query, append(colArgs, emailArgs...), nil
}

// resolvedHalf is one half of a resolution, in name order, with each
// person's sort key.
type resolvedHalf struct {
	people []SelectedPerson
	keys   []string
	err    error
}

func resolveHalf(ctx context.Context, q queryer, query string, args []any, fields []string, people int) (h resolvedHalf) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		h.err = fmt.Errorf("db: resolve selection: %w", err)
		return h
	}
	defer rows.Close()
	h.people = make([]SelectedPerson, 0, people)
	h.keys = make([]string, 0, people)
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
			h.err = fmt.Errorf("db: scan selected person: %w", err)
			return h
		}
		p.Values = make(map[string]string, len(fields))
		for i, f := range fields {
			p.Values[f] = vals[i]
		}
		p.AccountID = acct.Int64
		p.InvitationExpiry = parseTS(expires)
		h.people = append(h.people, p)
		h.keys = append(h.keys, sortKey)
	}
	if err := rows.Err(); err != nil {
		h.err = fmt.Errorf("db: resolve selection: %w", err)
	}
	return h
}

// mergeHalves merges two halves into one list in (sort key, id) order, the
// order of the query.
func mergeHalves(a, b resolvedHalf) []SelectedPerson {
	out := make([]SelectedPerson, 0, len(a.people)+len(b.people))
	i, j := 0, 0
	for i < len(a.people) || j < len(b.people) {
		if j == len(b.people) || (i < len(a.people) &&
			(a.keys[i] < b.keys[j] || (a.keys[i] == b.keys[j] && a.people[i].UserID < b.people[j].UserID))) {
			out = append(out, a.people[i])
			i++
		} else {
			out = append(out, b.people[j])
			j++
		}
	}
	return out
}

// ClearSelectionTx empties an admin's selection inside the invite
// transaction.
func ClearSelectionTx(ctx context.Context, tx Tx, adminID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM selections WHERE admin_id = ?`, adminID); err != nil {
		return fmt.Errorf("db: clear selection: %w", err)
	}
	return nil
}
