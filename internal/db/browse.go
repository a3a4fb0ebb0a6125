package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// This file holds the read queries behind the browse pages: directories,
// a directory's users and groups, a group's members, a user's details.
// Every list is a keyset page over an index — (sort_key, id) — never
// OFFSET, and asks for one row more than it shows to learn whether there
// is a next page.

// Cursor is a position in a name-ordered list: the (sort key, id) of a row.
type Cursor struct {
	SortKey string
	ID      string
}

// PageRequest asks for one page of a keyset list. At most one of After and
// Before is set: After pages forwards (rows after the cursor), Before pages
// backwards (rows before it); neither is the first page.
type PageRequest struct {
	Limit  int
	After  *Cursor
	Before *Cursor
}

func (p PageRequest) limit() int {
	if p.Limit <= 0 || p.Limit > 1000 {
		return 25
	}
	return p.Limit
}

// keysetPage turns the rows a keyset query read (limit+1 of them, backwards when
// the request has a Before cursor) into a page in list order, and says
// whether pages exist before and after it.
func keysetPage[T any](rows []T, p PageRequest) (out []T, hasPrev, hasNext bool) {
	n := p.limit()
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	switch {
	case p.Before != nil:
		// Read backwards: put the rows back in list order. Rows after the
		// cursor exist (the cursor row came from there).
		slices.Reverse(rows)
		return rows, more, true
	case p.After != nil:
		return rows, true, more
	}
	return rows, false, more
}

// DirectoryOverview is one line of the directories page.
type DirectoryOverview struct {
	Directory
	OrganizationName string // "" when the organisation is unknown
	SyncedAt         time.Time
	HasSyncState     bool
	Sync             SyncState // zero unless HasSyncState
}

// ListDirectoryOverviews returns the live directories by name with their
// organisation and sync state; organizationID "" means every organisation.
func (d *DB) ListDirectoryOverviews(ctx context.Context, organizationID string) ([]DirectoryOverview, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT d.id, d.organization_id, d.external_key, d.type, d.name, d.domain, d.state,
			d.source_created_at, d.source_updated_at, d.synced_at, COALESCE(o.name, ''), s.directory_id IS NOT NULL
		FROM directories d
		LEFT JOIN organizations o ON o.id = d.organization_id
		LEFT JOIN sync_state s ON s.directory_id = d.id
		WHERE d.deleted_at IS NULL AND (? = '' OR d.organization_id = ?)
		ORDER BY d.name, d.id`, organizationID, organizationID)
	if err != nil {
		return nil, fmt.Errorf("db: list directories: %w", err)
	}
	defer rows.Close()
	var out []DirectoryOverview
	for rows.Next() {
		var o DirectoryOverview
		var created, updated, synced string
		if err := rows.Scan(&o.ID, &o.OrganizationID, &o.ExternalKey, &o.Type, &o.Name, &o.Domain, &o.State,
			&created, &updated, &synced, &o.OrganizationName, &o.HasSyncState); err != nil {
			return nil, fmt.Errorf("db: scan directory: %w", err)
		}
		o.CreatedAt, o.UpdatedAt, o.SyncedAt = parseTS(created), parseTS(updated), parseTS(synced)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list directories: %w", err)
	}
	rows.Close()
	for i := range out {
		if !out[i].HasSyncState {
			continue
		}
		st, err := d.SyncState(ctx, out[i].ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		out[i].Sync = st
	}
	return out, nil
}

// LiveDirectory returns a directory that exists (not a tombstone) and its
// organisation's name (the organisation's id when Roster has no name for
// it), in one query: every directory page asks for both.
func (d *DB) LiveDirectory(ctx context.Context, id string) (dir Directory, orgName string, err error) {
	var hasOrg bool
	row := d.r.QueryRowContext(ctx, `SELECT d.id, d.organization_id, d.external_key, d.type, d.name, d.domain, d.state,
		d.source_created_at, d.source_updated_at, COALESCE(d.deleted_at, ''), o.id IS NOT NULL, COALESCE(o.name, '')
		FROM directories d LEFT JOIN organizations o ON o.id = d.organization_id WHERE d.id = ?`, id)
	dir, err = scanDirectory(scanFunc(func(dst ...any) error { return row.Scan(append(dst, &hasOrg, &orgName)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		return Directory{}, "", ErrNotFound
	}
	if err != nil {
		return Directory{}, "", fmt.Errorf("db: read directory %s: %w", id, err)
	}
	if !dir.DeletedAt.IsZero() {
		return Directory{}, "", ErrNotFound
	}
	if !hasOrg {
		orgName = dir.OrganizationID
	}
	return dir, orgName, nil
}

// scanFunc lets a function stand for a row in the scan helpers, to read
// extra columns after theirs.
type scanFunc func(dst ...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }

// DirectoryCounts returns the number of live users and groups of a
// directory. It reads every row of the directory, so callers cache it.
func (d *DB) DirectoryCounts(ctx context.Context, directoryID string) (users, groups int64, err error) {
	err = d.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM directory_users WHERE directory_id = ? AND deleted_at IS NULL),
		(SELECT count(*) FROM directory_groups WHERE directory_id = ? AND deleted_at IS NULL)`,
		directoryID, directoryID).Scan(&users, &groups)
	if err != nil {
		return 0, 0, fmt.Errorf("db: count directory %s: %w", directoryID, err)
	}
	return users, groups, nil
}

// UserFilter selects people of one directory.
type UserFilter struct {
	DirectoryID string
	GroupID     string // only members of this group ("" = everyone)
	State       string // "active", "inactive" (anything but active) or "" for all
	Search      string // what the admin typed ("" = no search)
	// FullText searches the FTS index (directory_user_search); false falls
	// back to substring matching, for a directory not indexed yet.
	FullText bool
	// SelectedBy, an admin id, marks the rows in that admin's selection
	// (UserRow.Selected); 0 marks none.
	SelectedBy int64
	// Matches is SearchMatches(Search) when MatchesKnown: callers that
	// cache it spare each page of a search reading the index's matches
	// again to plan the query (and, when exact, to count).
	Matches      int64
	MatchesKnown bool
}

// SearchMatches counts the full-text matches of what a person typed across
// every directory's people (0 when nothing searchable was typed). It reads
// every match, so callers cache it (UserFilter.Matches).
func (d *DB) SearchMatches(ctx context.Context, search string) (int64, error) {
	m := FTSMatch(search)
	if m == "" {
		return 0, nil
	}
	var n int64
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM directory_user_search WHERE directory_user_search MATCH ?`, m).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count search matches: %w", err)
	}
	return n, nil
}

// UserRow is one person on a users or members page.
type UserRow struct {
	ID          string
	DirectoryID string
	Email       string
	FirstName   string
	LastName    string
	Name        string
	JobTitle    string
	Department  string
	State       string
	SortKey     string
	// AccountID and AccountState describe the local account made from this
	// person, when there is one.
	AccountID    string
	AccountState string
	Selected     bool // in the selection of UserFilter.SelectedBy
}

// Cursor is the row's position in name order.
func (r UserRow) Cursor() Cursor { return Cursor{SortKey: r.SortKey, ID: r.ID} }

// UserPage is one page of people.
type UserPage struct {
	Rows    []UserRow
	HasPrev bool
	HasNext bool
}

// maxSearchTerms bounds the work one search can ask for.
const maxSearchTerms = 8

// SearchTerms splits what a person typed into the words the search
// matches: runs of letters, digits and combining marks (the same notion of
// a word as the FTS tokenizer), at most 8 of them, each at most 64 runes.
func SearchTerms(input string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(input, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	}) {
		if r := []rune(f); len(r) > 64 {
			f = string(r[:64])
		}
		out = append(out, f)
		if len(out) == maxSearchTerms {
			break
		}
	}
	return out
}

// FTSMatch turns what a person typed into an FTS4 MATCH expression in
// which every word is a quoted prefix term ("ada*" "love*"; FTS4 wants the
// star inside the quotes), all required. Quoting makes operators such as
// OR, NOT, NEAR, a leading "-" or a "*" plain words; the words themselves
// hold no quotes or stars (SearchTerms keeps only letters, digits and
// marks). It returns "" when nothing searchable is left.
func FTSMatch(input string) string {
	terms := SearchTerms(input)
	for i, t := range terms {
		terms[i] = `"` + t + `*"`
	}
	return strings.Join(terms, " ")
}

// userQuery builds the FROM/WHERE of a people list for a filter. sk and id
// name the columns the list is ordered by: the membership index's copy of
// the sort key when listing a group, the users' own index otherwise.
func userQuery(f UserFilter) (from, where string, args []any, sk, id string) {
	return userQueryWith(f, false)
}

// searchWalkAbove is the number of full-text matches above which the pages
// of a search walk the name index instead of sorting every match: with
// many matches, the next limit+1 of them in name order are a short walk of
// the (directory_id, sort_key, id) index away; with few, that walk would
// cross most of the directory while reading and sorting the matches is cheap.
const searchWalkAbove = 1000

// searchStrategy picks how a full-text search is run; both return the same
// rows in the same order.
type searchStrategy int

const (
	searchAuto     searchStrategy = iota // choose by the number of matches
	searchFTSFirst                       // read every match, then sort
	searchWalk                           // walk the name index, keep matches
)

// searchWalks reports whether a full-text people search of a directory (not
// a group: its pages walk the membership index) should walk the name index:
// whether the FTS index holds more than searchWalkAbove matches for the
// search. The count is over every directory's people, an upper bound of the
// directory's own, and stops at searchWalkAbove+1 rows.
func (d *DB) searchWalks(ctx context.Context, f UserFilter, s searchStrategy) (bool, error) {
	if s != searchAuto || !f.FullText || f.GroupID != "" {
		return s == searchWalk && f.GroupID == "", nil
	}
	m := FTSMatch(f.Search)
	if m == "" {
		return false, nil
	}
	if f.MatchesKnown {
		return f.Matches > searchWalkAbove, nil
	}
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM directory_user_search
		WHERE directory_user_search MATCH ? LIMIT ?)`, m, searchWalkAbove+1).Scan(&n); err != nil {
		return false, fmt.Errorf("db: count search matches: %w", err)
	}
	return n > searchWalkAbove, nil
}

// userQueryWith is userQuery; walk (for a directory's people, not a group's)
// makes a full-text search walk the name index and keep the rows whose pk
// is among the matches, instead of reading every match and sorting.
func userQueryWith(f UserFilter, walk bool) (from, where string, args []any, sk, id string) {
	var conds []string
	if f.GroupID != "" {
		// A group's members in name order walk the membership table's key and
		// find each member in the people list's index by its whole key
		// (directory, sort key, id): one lookup in an index that carries
		// the listed columns, instead of the id index and then the table.
		// The membership's sort key is the user's (the sync keeps the copy
		// current). Measured on the 100k replica, 10,000-member group, 300
		// random pages: p50 1.2-1.7 → 0.58 ms, p99 2.8-8.6 → 1.2-1.7 ms.
		// CROSS JOIN and "+" pin that plan: SQLite 3.40 (the sqlite3 shell
		// here) otherwise turned the page's position on m into a range over
		// the whole directory's sort keys, 1.3 s a page.
		from = `directory_memberships m CROSS JOIN directory_users u
			ON u.sort_key = +m.user_sort_key AND u.id = +m.user_id`
		conds = append(conds, `m.group_id = ?`, `u.directory_id = ?`)
		args = append(args, f.GroupID, f.DirectoryID)
		sk, id = "m.user_sort_key", "m.user_id"
	} else {
		from = `directory_users u`
		conds = append(conds, `u.directory_id = ?`)
		args = append(args, f.DirectoryID)
		sk, id = "u.sort_key", "u.id"
	}
	conds = append(conds, `u.deleted_at IS NULL`)
	switch f.State {
	case "active":
		conds = append(conds, `u.state = 'active'`)
	case "inactive":
		conds = append(conds, `u.state <> 'active'`)
	}
	if f.Search != "" {
		if f.FullText {
			if m := FTSMatch(f.Search); m != "" {
				switch {
				case walk && f.GroupID == "":
					// The name index drives the query: walk the directory in
					// name order and keep the rows whose pk (in the index) is
					// among the matches, read once into a temporary b-tree;
					// the LIMIT stops the walk. "+" keeps the planner from
					// looking the matches up by rowid instead.
					conds = append(conds, `+u.pk IN (SELECT docid FROM directory_user_search WHERE directory_user_search MATCH ?)`)
				default:
					// The FTS index drives the query: rowid lookups for the
					// matches, then a sort. "+" keeps the planner from walking
					// the whole directory in name order instead.
					if f.GroupID == "" {
						conds[0] = `+u.directory_id = ?`
					}
					conds = append(conds, `u.pk IN (SELECT docid FROM directory_user_search WHERE directory_user_search MATCH ?)`)
				}
				args = append(args, m)
			}
		} else {
			// Not indexed yet: substring match on the case-folded sort key
			// (names and email, folded by Go, so any script) and on the job
			// title and department.
			for _, t := range SearchTerms(f.Search) {
				conds = append(conds, `instr(u.sort_key || char(31) || lower(u.job_title) || char(31) || lower(u.department), ?) > 0`)
				args = append(args, strings.ToLower(t))
			}
		}
	}
	return from, strings.Join(conds, " AND "), args, sk, id
}

// BrowseUsers returns one name-ordered page of the people matching f.
// A full-text search with many matches walks the name index (see
// searchWalks); one with few reads its matches and sorts them.
func (d *DB) BrowseUsers(ctx context.Context, f UserFilter, p PageRequest) (UserPage, error) {
	return d.browseUsers(ctx, f, p, searchAuto)
}

func (d *DB) browseUsers(ctx context.Context, f UserFilter, p PageRequest, s searchStrategy) (UserPage, error) {
	walk, err := d.searchWalks(ctx, f, s)
	if err != nil {
		return UserPage{}, err
	}
	q, args := usersPageQuery(f, p, walk)
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return UserPage{}, fmt.Errorf("db: browse users: %w", err)
	}
	defer rows.Close()
	n := p.limit()
	page := UserPage{Rows: make([]UserRow, 0, n+1)}
	for rows.Next() {
		r := UserRow{DirectoryID: f.DirectoryID}
		if err := rows.Scan(&r.ID, &r.Email, &r.FirstName, &r.LastName, &r.Name, &r.JobTitle,
			&r.Department, &r.State, &r.SortKey, &r.AccountID, &r.AccountState, &r.Selected); err != nil {
			return UserPage{}, fmt.Errorf("db: browse users: %w", err)
		}
		page.Rows = append(page.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return UserPage{}, fmt.Errorf("db: browse users: %w", err)
	}
	page.Rows, page.HasPrev, page.HasNext = keysetPage(page.Rows, p)
	return page, nil
}

// usersPageQuery is the query of one page of people (n+1 rows, to tell
// whether there is a next page) and its arguments.
func usersPageQuery(f UserFilter, p PageRequest, walk bool) (string, []any) {
	from, where, args, sk, id := userQueryWith(f, walk)
	n := p.limit()
	order := sk + ", " + id
	switch {
	case p.After != nil:
		where += ` AND (` + sk + `, ` + id + `) > (?, ?)`
		args = append(args, p.After.SortKey, p.After.ID)
	case p.Before != nil:
		where += ` AND (` + sk + `, ` + id + `) < (?, ?)`
		args = append(args, p.Before.SortKey, p.Before.ID)
		order = sk + " DESC, " + id + " DESC"
	}
	// The page's accounts and selection marks come in the same query: a
	// lookup by unique key per row costs less than a second query.
	selected := `0`
	if f.SelectedBy != 0 {
		selected = `EXISTS (SELECT 1 FROM selections s WHERE s.admin_id = ? AND s.kind = 'user' AND s.item_id = u.id)`
		args = append([]any{f.SelectedBy}, args...)
	}
	q := `SELECT u.id, u.email, u.first_name, u.last_name, u.name, u.job_title, u.department, u.state, ` + sk +
		`, COALESCE(a.id, ''), COALESCE(a.state, ''), ` + selected +
		` FROM ` + from + ` LEFT JOIN accounts a ON a.directory_user_id = u.id WHERE ` + where +
		` ORDER BY ` + order + fmt.Sprintf(` LIMIT %d`, n+1)
	return q, args
}

// CountUsers counts the people matching f. It reads every match, so
// callers cache it.
func (d *DB) CountUsers(ctx context.Context, f UserFilter) (int64, error) {
	if f.MatchesKnown && f.FullText && f.GroupID == "" && f.State == "" && FTSMatch(f.Search) != "" {
		// The index holds the live people of indexed directories only: when
		// this is the only one, its matches are the count.
		var others bool
		if err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sync_state
			WHERE search_indexed = 1 AND directory_id <> ?)`, f.DirectoryID).Scan(&others); err != nil {
			return 0, fmt.Errorf("db: count users: %w", err)
		}
		if !others {
			return f.Matches, nil
		}
	}
	from, where, args, _, _ := userQuery(f)
	var n int64
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM `+from+` WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return n, nil
}

// GroupFilter selects groups of one directory.
type GroupFilter struct {
	DirectoryID string
	Search      string // substring of the name, case-insensitive
}

// GroupRow is one group on a groups page.
type GroupRow struct {
	ID          string
	DirectoryID string
	Name        string
	SortKey     string
	Members     int64
}

// Cursor is the row's position in name order.
func (r GroupRow) Cursor() Cursor { return Cursor{SortKey: r.SortKey, ID: r.ID} }

// GroupPage is one page of groups.
type GroupPage struct {
	Rows    []GroupRow
	HasPrev bool
	HasNext bool
}

func groupQuery(f GroupFilter) (where string, args []any) {
	where = `directory_id = ? AND deleted_at IS NULL`
	args = []any{f.DirectoryID}
	if s := strings.TrimSpace(f.Search); s != "" {
		// Groups are few (a directory has hundreds, a few thousand at most);
		// instr over the directory's slice of the (directory_id, sort_key)
		// index is cheap and finds words anywhere in the name.
		where += ` AND instr(sort_key, ?) > 0`
		args = append(args, GroupSortKey(s))
	}
	return where, args
}

// BrowseGroups returns one name-ordered page of groups with their member
// counts (one grouped count for the page, not one query per group).
func (d *DB) BrowseGroups(ctx context.Context, f GroupFilter, p PageRequest) (GroupPage, error) {
	where, args := groupQuery(f)
	n := p.limit()
	order := `sort_key, id`
	switch {
	case p.After != nil:
		where += ` AND (sort_key, id) > (?, ?)`
		args = append(args, p.After.SortKey, p.After.ID)
	case p.Before != nil:
		where += ` AND (sort_key, id) < (?, ?)`
		args = append(args, p.Before.SortKey, p.Before.ID)
		order = `sort_key DESC, id DESC`
	}
	rows, err := d.r.QueryContext(ctx, `SELECT id, directory_id, name, sort_key FROM directory_groups WHERE `+where+
		` ORDER BY `+order+fmt.Sprintf(` LIMIT %d`, n+1), args...)
	if err != nil {
		return GroupPage{}, fmt.Errorf("db: browse groups: %w", err)
	}
	defer rows.Close()
	var page GroupPage
	for rows.Next() {
		var g GroupRow
		if err := rows.Scan(&g.ID, &g.DirectoryID, &g.Name, &g.SortKey); err != nil {
			return GroupPage{}, fmt.Errorf("db: browse groups: %w", err)
		}
		page.Rows = append(page.Rows, g)
	}
	if err := rows.Err(); err != nil {
		return GroupPage{}, fmt.Errorf("db: browse groups: %w", err)
	}
	rows.Close()
	page.Rows, page.HasPrev, page.HasNext = keysetPage(page.Rows, p)
	if len(page.Rows) == 0 {
		return page, nil
	}
	ids := make([]any, len(page.Rows))
	idx := make(map[string]int, len(page.Rows))
	for i, g := range page.Rows {
		ids[i] = g.ID
		idx[g.ID] = i
	}
	cr, err := d.r.QueryContext(ctx, `SELECT group_id, count(*) FROM directory_memberships WHERE group_id IN (?`+
		strings.Repeat(`, ?`, len(ids)-1)+`) GROUP BY group_id`, ids...)
	if err != nil {
		return GroupPage{}, fmt.Errorf("db: count members: %w", err)
	}
	defer cr.Close()
	for cr.Next() {
		var id string
		var c int64
		if err := cr.Scan(&id, &c); err != nil {
			return GroupPage{}, fmt.Errorf("db: count members: %w", err)
		}
		page.Rows[idx[id]].Members = c
	}
	return page, cr.Err()
}

// GroupNames returns up to limit live groups of a directory by name, without
// member counts (for a filter menu); more reports that there were others.
func (d *DB) GroupNames(ctx context.Context, directoryID string, limit int) (groups []GroupRow, more bool, err error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, name FROM directory_groups WHERE directory_id = ? AND deleted_at IS NULL
		ORDER BY sort_key, id LIMIT ?`, directoryID, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("db: group names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		g := GroupRow{DirectoryID: directoryID}
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, false, fmt.Errorf("db: group names: %w", err)
		}
		groups = append(groups, g)
	}
	if len(groups) > limit {
		return groups[:limit], true, rows.Err()
	}
	return groups, false, rows.Err()
}

// CountGroups counts the live groups matching f.
func (d *DB) CountGroups(ctx context.Context, f GroupFilter) (int64, error) {
	where, args := groupQuery(f)
	var n int64
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM directory_groups WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count groups: %w", err)
	}
	return n, nil
}

// LiveGroup returns a group that exists (not a tombstone).
func (d *DB) LiveGroup(ctx context.Context, id string) (DirectoryGroup, error) {
	var g DirectoryGroup
	var created, updated string
	err := d.r.QueryRowContext(ctx, `SELECT id, directory_id, organization_id, idp_id, name, source_created_at,
		source_updated_at, last_event_id FROM directory_groups WHERE id = ? AND deleted_at IS NULL`, id).
		Scan(&g.ID, &g.DirectoryID, &g.OrganizationID, &g.IdpID, &g.Name, &created, &updated, &g.LastEventID)
	if errors.Is(err, sql.ErrNoRows) {
		return DirectoryGroup{}, ErrNotFound
	}
	if err != nil {
		return DirectoryGroup{}, fmt.Errorf("db: read group %s: %w", id, err)
	}
	g.CreatedAt, g.UpdatedAt = parseTS(created), parseTS(updated)
	return g, nil
}

// GroupMemberCount counts a group's members from the membership key alone.
func (d *DB) GroupMemberCount(ctx context.Context, groupID string) (int64, error) {
	var n int64
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM directory_memberships WHERE group_id = ?`, groupID).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count members of %s: %w", groupID, err)
	}
	return n, nil
}

// LiveUser returns a person that exists (not a tombstone).
func (d *DB) LiveUser(ctx context.Context, id string) (DirectoryUser, error) {
	u, err := scanUser(d.r.QueryRowContext(ctx, `SELECT `+userReadCols+` FROM directory_users WHERE id = ? AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return DirectoryUser{}, ErrNotFound
	}
	if err != nil {
		return DirectoryUser{}, fmt.Errorf("db: read user %s: %w", id, err)
	}
	return u, nil
}

// GroupRef names a group.
type GroupRef struct {
	ID   string
	Name string
}

// UserGroups returns the live groups a person belongs to, by name.
func (d *DB) UserGroups(ctx context.Context, userID string) ([]GroupRef, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT g.id, g.name FROM directory_memberships m
		JOIN directory_groups g ON g.id = m.group_id
		WHERE m.user_id = ? AND g.deleted_at IS NULL ORDER BY g.sort_key, g.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("db: groups of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []GroupRef
	for rows.Next() {
		var g GroupRef
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, fmt.Errorf("db: groups of %s: %w", userID, err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// AccountRef is the local account made from a directory person.
type AccountRef struct {
	ID    string
	Email string
	State string
	Role  string
}

// AccountForUser returns the local account made from a directory person;
// ErrNotFound when there is none.
func (d *DB) AccountForUser(ctx context.Context, userID string) (AccountRef, error) {
	var a AccountRef
	var id, email, state, role sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT id, email, state, role FROM accounts WHERE directory_user_id = ? LIMIT 1`, userID).
		Scan(&id, &email, &state, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return AccountRef{}, ErrNotFound
	}
	if err != nil {
		return AccountRef{}, fmt.Errorf("db: account of %s: %w", userID, err)
	}
	a.ID, a.Email, a.State, a.Role = id.String, email.String, state.String, role.String
	return a, nil
}

// UserHistory returns, newest first, the directory changes the sync
// recorded for a person (audit entries by "sync" whose target is the
// person's id).
func (d *DB) UserHistory(ctx context.Context, userID string, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := d.r.QueryContext(ctx, `SELECT id, at, actor, COALESCE(organization_id, ''), action, target, detail
		FROM audit_log WHERE target = ? AND actor = 'sync' ORDER BY id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("db: history of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.OrganizationID, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("db: history of %s: %w", userID, err)
		}
		e.At = parseTS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
