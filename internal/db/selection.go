package db

import (
	"context"
	"encoding/json"
	"fmt"
)

// Selection kinds (selections.kind).
const (
	SelectUser  = "user"
	SelectGroup = "group"
)

// The selection is kept per admin in the selections table. Adding is
// set-based SQL that only takes live items of directories the admin may
// see (organizationID "" = every organisation), so a forged id adds
// nothing, and adding twice is a no-op (INSERT OR IGNORE on the key).

// SelectUsers adds live people, by id, to an admin's selection and returns
// how many were new.
func (d *DB) SelectUsers(ctx context.Context, adminID int64, organizationID string, ids []string) (int64, error) {
	return d.selectItems(ctx, `INSERT OR IGNORE INTO selections (admin_id, kind, item_id, directory_id, added_at)
		SELECT ?, 'user', u.id, u.directory_id, ? FROM directory_users u
		JOIN directories dir ON dir.id = u.directory_id
		WHERE u.id IN (SELECT value FROM json_each(?)) AND u.deleted_at IS NULL
		  AND dir.deleted_at IS NULL AND (? = '' OR dir.organization_id = ?)`, adminID, organizationID, ids)
}

// SelectGroups adds live groups, by id, to an admin's selection and returns
// how many were new.
func (d *DB) SelectGroups(ctx context.Context, adminID int64, organizationID string, ids []string) (int64, error) {
	return d.selectItems(ctx, `INSERT OR IGNORE INTO selections (admin_id, kind, item_id, directory_id, added_at)
		SELECT ?, 'group', g.id, g.directory_id, ? FROM directory_groups g
		JOIN directories dir ON dir.id = g.directory_id
		WHERE g.id IN (SELECT value FROM json_each(?)) AND g.deleted_at IS NULL
		  AND dir.deleted_at IS NULL AND (? = '' OR dir.organization_id = ?)`, adminID, organizationID, ids)
}

func (d *DB) selectItems(ctx context.Context, q string, adminID int64, organizationID string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	list, _ := json.Marshal(ids)
	var n int64
	err := d.Tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, q, adminID, ts(d.now()), string(list), organizationID, organizationID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: add to selection: %w", err)
	}
	return n, nil
}

// SelectMatchingUsers adds every person matching f to an admin's selection
// in one statement and returns how many were new. The caller checks that
// the admin may see f's directory.
func (d *DB) SelectMatchingUsers(ctx context.Context, adminID int64, f UserFilter) (int64, error) {
	from, where, args, _, _ := userQuery(f)
	var n int64
	err := d.Tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO selections (admin_id, kind, item_id, directory_id, added_at)
			SELECT ?, 'user', u.id, u.directory_id, ? FROM `+from+` WHERE `+where,
			append([]any{adminID, ts(d.now())}, args...)...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: select matching users: %w", err)
	}
	return n, nil
}

// Unselect removes items of one kind from an admin's selection and returns
// how many were there.
func (d *DB) Unselect(ctx context.Context, adminID int64, kind string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	list, _ := json.Marshal(ids)
	var n int64
	err := d.Tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM selections WHERE admin_id = ? AND kind = ?
			AND item_id IN (SELECT value FROM json_each(?))`, adminID, kind, string(list))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: remove from selection: %w", err)
	}
	return n, nil
}

// ClearSelection empties an admin's selection and returns how many items
// it held.
func (d *DB) ClearSelection(ctx context.Context, adminID int64) (int64, error) {
	var n int64
	err := d.Tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM selections WHERE admin_id = ?`, adminID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("db: clear selection: %w", err)
	}
	return n, nil
}

// selectionPeopleSQL lists, once each, the people an admin's selection
// stands for: the live people selected directly and every member of each
// selected group. Two parameters: the admin id, twice.
const selectionPeopleSQL = `SELECT s.item_id AS user_id FROM selections s
		JOIN directory_users u ON u.id = s.item_id AND u.deleted_at IS NULL
		WHERE s.admin_id = ? AND s.kind = 'user'
	UNION
	SELECT m.user_id FROM selections s
		JOIN directory_memberships m ON m.group_id = s.item_id
		WHERE s.admin_id = ? AND s.kind = 'group'`

// SelectionHeadcount is the number of distinct people an admin's selection
// stands for, in one query (it is shown on every page).
func (d *DB) SelectionHeadcount(ctx context.Context, adminID int64) (int64, error) {
	var n int64
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM (`+selectionPeopleSQL+`)`, adminID, adminID).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count selection: %w", err)
	}
	return n, nil
}

// SelectedUser is a person selected directly.
type SelectedUser struct {
	ID          string
	DirectoryID string
	Name        string
	FirstName   string
	LastName    string
	Email       string
	State       string
	Live        bool // false when the directory deleted the person since
}

// SelectedGroup is a selected group with its member count.
type SelectedGroup struct {
	ID          string
	DirectoryID string
	Name        string
	Members     int64
	Live        bool
}

// SelectionList is what an admin's selection holds.
type SelectionList struct {
	Users      []SelectedUser // the first userLimit, by name
	UsersTotal int64          // every directly selected person
	Groups     []SelectedGroup
}

// ListSelection returns the groups and (up to userLimit of) the people an
// admin selected, by name.
func (d *DB) ListSelection(ctx context.Context, adminID int64, userLimit int) (SelectionList, error) {
	var out SelectionList
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM selections WHERE admin_id = ? AND kind = 'user'`, adminID).
		Scan(&out.UsersTotal); err != nil {
		return out, fmt.Errorf("db: list selection: %w", err)
	}
	rows, err := d.r.QueryContext(ctx, `SELECT s.item_id, s.directory_id, COALESCE(u.name, ''), COALESCE(u.first_name, ''),
			COALESCE(u.last_name, ''), COALESCE(u.email, ''), COALESCE(u.state, ''), u.id IS NOT NULL AND u.deleted_at IS NULL
		FROM selections s LEFT JOIN directory_users u ON u.id = s.item_id
		WHERE s.admin_id = ? AND s.kind = 'user'
		ORDER BY COALESCE(u.sort_key, ''), s.item_id LIMIT ?`, adminID, userLimit)
	if err != nil {
		return out, fmt.Errorf("db: list selection: %w", err)
	}
	for rows.Next() {
		var u SelectedUser
		if err := rows.Scan(&u.ID, &u.DirectoryID, &u.Name, &u.FirstName, &u.LastName, &u.Email, &u.State, &u.Live); err != nil {
			rows.Close()
			return out, fmt.Errorf("db: list selection: %w", err)
		}
		out.Users = append(out.Users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("db: list selection: %w", err)
	}
	rows, err = d.r.QueryContext(ctx, `SELECT s.item_id, s.directory_id, COALESCE(g.name, ''),
			(SELECT count(*) FROM directory_memberships m WHERE m.group_id = s.item_id),
			g.id IS NOT NULL AND g.deleted_at IS NULL
		FROM selections s LEFT JOIN directory_groups g ON g.id = s.item_id
		WHERE s.admin_id = ? AND s.kind = 'group'
		ORDER BY COALESCE(g.sort_key, ''), s.item_id`, adminID)
	if err != nil {
		return out, fmt.Errorf("db: list selection: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g SelectedGroup
		if err := rows.Scan(&g.ID, &g.DirectoryID, &g.Name, &g.Members, &g.Live); err != nil {
			return out, fmt.Errorf("db: list selection: %w", err)
		}
		out.Groups = append(out.Groups, g)
	}
	return out, rows.Err()
}

// SelectedAmong returns which of ids (of one kind) are in an admin's
// selection, so a page can mark its rows.
func (d *DB) SelectedAmong(ctx context.Context, adminID int64, kind string, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	list, _ := json.Marshal(ids)
	rows, err := d.r.QueryContext(ctx, `SELECT item_id FROM selections WHERE admin_id = ? AND kind = ?
		AND item_id IN (SELECT value FROM json_each(?))`, adminID, kind, string(list))
	if err != nil {
		return nil, fmt.Errorf("db: selected among: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("db: selected among: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}
