package onboarding

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"roster/internal/db"
)

// Browsing the replica: the directories, a directory's people and groups, a
// group's members and a person's details — always within what the actor
// may see (another organisation's id answers ErrNotFound, like an unknown
// one).

// Page sizes a list accepts; DefaultPageSize is used otherwise.
var PageSizes = []int{10, 25, 50, 100}

// DefaultPageSize is the page size of a list URL without (a valid) limit.
const DefaultPageSize = 25

// maxQueryLen bounds the search text (in characters) kept from a URL.
const maxQueryLen = 200

// Notices shown above a list when its URL asked for something Roster
// could not do as asked. The page still works.
const (
	NoticeBadLimit    = "Showing 25 per page: a page can show 10, 25, 50 or 100 rows."
	NoticeBadCursor   = "That page link is out of date or damaged, so this is the first page."
	NoticeBadState    = "Showing people in every state: the state filter can be active, inactive or all."
	NoticeBadGroup    = "That group is not part of this directory, so the group filter was left out."
	NoticeSlowSearch  = "This directory's search index is still being built, so search may be slower and does not ignore accents yet."
	NoticeQueryTooBig = "The search was shortened to its first 200 characters."
)

// ListQuery is what a list URL asks for: page size, position, search and
// filters. Cursors are opaque tokens (EncodeCursor).
type ListQuery struct {
	Limit  int
	After  string
	Before string
	Q      string
	State  string // "", "active" or "inactive" ("" = all)
	Group  string // a group id of the directory ("" = any)
}

// Values renders the query back to URL parameters, leaving out defaults,
// so links stay short and bookmarkable.
func (q ListQuery) Values() url.Values {
	v := url.Values{}
	if q.Limit != 0 && q.Limit != DefaultPageSize {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.Group != "" {
		v.Set("group", q.Group)
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	if q.Before != "" {
		v.Set("before", q.Before)
	}
	return v
}

// ParseListQuery reads a list URL's parameters. It never fails: anything
// it cannot use falls back to the default and adds a notice saying so.
func ParseListQuery(v url.Values) (ListQuery, []string) {
	var q ListQuery
	var notices []string
	q.Limit = DefaultPageSize
	if s := strings.TrimSpace(v.Get("limit")); s != "" {
		n, err := strconv.Atoi(s)
		ok := err == nil
		if ok {
			ok = false
			for _, size := range PageSizes {
				if n == size {
					ok = true
				}
			}
		}
		if ok {
			q.Limit = n
		} else {
			notices = append(notices, NoticeBadLimit)
		}
	}
	q.Q = strings.Join(strings.Fields(v.Get("q")), " ")
	if !utf8.ValidString(q.Q) {
		q.Q = strings.ToValidUTF8(q.Q, "")
	}
	if utf8.RuneCountInString(q.Q) > maxQueryLen {
		q.Q = string([]rune(q.Q)[:maxQueryLen])
		notices = append(notices, NoticeQueryTooBig)
	}
	switch s := strings.ToLower(strings.TrimSpace(v.Get("state"))); s {
	case "", "all":
	case "active", "inactive":
		q.State = s
	default:
		notices = append(notices, NoticeBadState)
	}
	q.Group = strings.TrimSpace(v.Get("group"))
	if len(q.Group) > 200 {
		q.Group = ""
		notices = append(notices, NoticeBadGroup)
	}
	q.After, q.Before = v.Get("after"), v.Get("before")
	if q.After != "" && q.Before != "" {
		q.After, q.Before = "", ""
		notices = append(notices, NoticeBadCursor)
	}
	return q, notices
}

// ErrBadCursor: a cursor token is damaged or belongs to another list.
var ErrBadCursor = errors.New("bad cursor")

// cursorScope names one list (which directory or group, which search and
// filters): a cursor made for one list is stale in another.
func cursorScope(parts ...string) string {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// EncodeCursor makes the opaque token of a list position: base64url of
// "sort_key NUL id NUL scope".
func EncodeCursor(c db.Cursor, scope string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.SortKey + "\x00" + c.ID + "\x00" + scope))
}

// DecodeCursor reads a token made by EncodeCursor for the same scope.
func DecodeCursor(token, scope string) (db.Cursor, error) {
	if token == "" || len(token) > 2048 {
		return db.Cursor{}, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return db.Cursor{}, ErrBadCursor
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 || string(parts[2]) != scope || !utf8.Valid(parts[0]) || !utf8.Valid(parts[1]) {
		return db.Cursor{}, ErrBadCursor
	}
	return db.Cursor{SortKey: string(parts[0]), ID: string(parts[1])}, nil
}

// pageCursors encodes the cursors of the pages before and after rows (a
// page in list order); "" where there is none.
func pageCursors[R interface{ Cursor() db.Cursor }](rows []R, hasPrev, hasNext bool, scope string) (prev, next string) {
	if len(rows) == 0 {
		return "", ""
	}
	if hasPrev {
		prev = EncodeCursor(rows[0].Cursor(), scope)
	}
	if hasNext {
		next = EncodeCursor(rows[len(rows)-1].Cursor(), scope)
	}
	return prev, next
}

// pageRequest turns a query's cursors into a db page request; a damaged or
// foreign cursor gives the first page and a notice.
func pageRequest(q ListQuery, scope string) (db.PageRequest, string) {
	p := db.PageRequest{Limit: q.Limit}
	switch {
	case q.After != "":
		c, err := DecodeCursor(q.After, scope)
		if err != nil {
			return p, NoticeBadCursor
		}
		p.After = &c
	case q.Before != "":
		c, err := DecodeCursor(q.Before, scope)
		if err != nil {
			return p, NoticeBadCursor
		}
		p.Before = &c
	}
	return p, ""
}

// countCache keeps the totals shown above lists ("1,204 people"): counting
// reads every matching row, too slow to repeat on every page view of a big
// directory. An entry is used while the directory's sync state is
// unchanged (every sync transaction rewrites it) and for at most a minute.
type countCache struct {
	mu sync.Mutex
	m  map[countKey]countEntry
}

type countKey struct {
	db  *db.DB
	key string
}

type countEntry struct {
	n       []int64
	version string
	at      time.Time
}

const countTTL = time.Minute

var counts = &countCache{m: map[countKey]countEntry{}}

func (c *countCache) get(d *db.DB, key, version string, now time.Time, fill func() ([]int64, error)) ([]int64, error) {
	k := countKey{d, key}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && e.version == version && now.Sub(e.at) < countTTL && now.Sub(e.at) >= 0 {
		return e.n, nil
	}
	n, err := fill()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) > 4096 {
		c.m = map[countKey]countEntry{}
	}
	c.m[k] = countEntry{n: n, version: version, at: now}
	c.mu.Unlock()
	return n, nil
}

// syncVersion is what invalidates cached counts of a directory.
func syncVersion(st db.SyncState) string {
	return st.UpdatedAt.Format(time.RFC3339Nano) + "/" + strconv.FormatInt(st.Generation, 10)
}

// DirectoryRef names a directory and its organisation.
type DirectoryRef struct {
	ID               string
	Name             string
	OrganizationID   string
	OrganizationName string // the id when Roster has no name for it
}

// DirectorySummary is one line of the directories page.
type DirectorySummary struct {
	DirectoryRef
	Type      string // WorkOS type, e.g. "okta scim v2.0"
	Domain    string
	State     string // REST vocabulary: linked, validating, invalid_credentials, unlinked, deleting
	Users     int64
	Groups    int64
	CountedAt time.Time // the replica's freshness: last successful sync work, or when the directory was stored

	Syncing       bool   // a backfill or reconcile is under way
	SyncMode      string // backfill | reconcile
	SyncPhase     string
	UsersDone     int64
	UsersTotal    int64 // 0: unknown
	GroupsDone    int64
	GroupsTotal   int64
	LastErrorKind string
	LastError     string
	LastErrorAt   time.Time
	NeverSynced   bool // no sync state yet
}

// Directories lists the directories the actor may see, by name, with their
// counts and sync health.
func (s *Service) Directories(ctx context.Context, act Actor) ([]DirectorySummary, error) {
	list, err := s.DB.ListDirectoryOverviews(ctx, act.OrganizationID)
	if err != nil {
		return nil, err
	}
	out := make([]DirectorySummary, 0, len(list))
	for _, o := range list {
		if !act.CanSee(o.OrganizationID) {
			continue
		}
		ds := DirectorySummary{
			DirectoryRef: DirectoryRef{ID: o.ID, Name: o.Name, OrganizationID: o.OrganizationID, OrganizationName: o.OrganizationName},
			Type:         o.Type, Domain: o.Domain, State: o.State, CountedAt: o.SyncedAt, NeverSynced: !o.HasSyncState,
		}
		if ds.OrganizationName == "" {
			ds.OrganizationName = o.OrganizationID
		}
		version := o.SyncedAt.String()
		if o.HasSyncState {
			st := o.Sync
			version = syncVersion(st)
			if !st.LastSuccessAt.IsZero() {
				ds.CountedAt = st.LastSuccessAt
			}
			ds.Syncing, ds.SyncMode, ds.SyncPhase = st.Loading(), st.Mode, st.Phase
			ds.UsersDone, ds.UsersTotal, ds.GroupsDone, ds.GroupsTotal = st.UsersDone, st.UsersTotal, st.GroupsDone, st.GroupsTotal
			// An error matters only while nothing has worked since.
			if st.LastErrorKind != "" || st.LastError != "" {
				if st.LastSuccessAt.IsZero() || !st.LastErrorAt.Before(st.LastSuccessAt) {
					ds.LastErrorKind, ds.LastError, ds.LastErrorAt = st.LastErrorKind, st.LastError, st.LastErrorAt
				}
			}
		}
		if ds.Users, ds.Groups, err = s.directoryCounts(ctx, o.ID, version); err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	return out, nil
}

// visibleDirectory returns a live directory the actor may see.
func (s *Service) visibleDirectory(ctx context.Context, act Actor, id string) (DirectoryRef, db.SyncState, error) {
	if id == "" {
		return DirectoryRef{}, db.SyncState{}, ErrNotFound
	}
	dir, orgName, err := s.DB.LiveDirectory(ctx, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !act.CanSee(dir.OrganizationID)) {
		return DirectoryRef{}, db.SyncState{}, ErrNotFound
	}
	if err != nil {
		return DirectoryRef{}, db.SyncState{}, err
	}
	ref := DirectoryRef{ID: dir.ID, Name: dir.Name, OrganizationID: dir.OrganizationID, OrganizationName: orgName}
	st, err := s.DB.SyncState(ctx, id)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return DirectoryRef{}, db.SyncState{}, err
	}
	return ref, st, nil
}

// Directory returns a live directory the actor may see; ErrNotFound when
// it does not exist or belongs to another organisation.
func (s *Service) Directory(ctx context.Context, act Actor, id string) (DirectoryRef, error) {
	ref, _, err := s.visibleDirectory(ctx, act, id)
	return ref, err
}

// Person is one person on a list.
type Person struct {
	ID           string
	Name         string // display name: first and last name, else name, else email
	Email        string
	JobTitle     string
	Department   string
	State        string
	AccountID    string // "" when no local account
	AccountState string
	Selected     bool // directly in the actor's selection
}

// DisplayName is how Roster names a directory person.
func DisplayName(first, last, name, email, id string) string {
	if n := strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last)); n != "" {
		return n
	}
	if n := strings.TrimSpace(name); n != "" {
		return n
	}
	if email != "" {
		return email
	}
	return id
}

// PeoplePage is one page of a people list.
type PeoplePage struct {
	Directory  DirectoryRef
	Query      ListQuery // as used (defaults filled, cursors as given)
	Rows       []Person
	Total      int64  // people matching the search and filters
	PrevCursor string // "" when this is the first page
	NextCursor string // "" when this is the last page
	Notices    []string
	GroupName  string // the group filter's name
	Indexed    bool   // the search index is ready
	// Groups are the directory's groups by name for the group filter; nil
	// when it has more than GroupsFilterLimit.
	Groups []GroupOption
}

// GroupsFilterLimit is the most groups a users page offers in its group
// filter list.
const GroupsFilterLimit = 500

// DirectoryUsers returns a page of a directory's people.
func (s *Service) DirectoryUsers(ctx context.Context, act Actor, directoryID string, q ListQuery) (PeoplePage, error) {
	dir, st, err := s.visibleDirectory(ctx, act, directoryID)
	if err != nil {
		return PeoplePage{}, err
	}
	page := PeoplePage{Directory: dir, Indexed: st.SearchIndexed}
	if q.Group != "" {
		g, err := s.DB.LiveGroup(ctx, q.Group)
		switch {
		case errors.Is(err, db.ErrNotFound) || (err == nil && g.DirectoryID != dir.ID):
			page.Notices = append(page.Notices, NoticeBadGroup)
			q.Group, q.After, q.Before = "", "", ""
		case err != nil:
			return PeoplePage{}, err
		default:
			page.GroupName = g.Name
		}
	}
	f := db.UserFilter{DirectoryID: dir.ID, GroupID: q.Group, State: q.State, Search: q.Q, FullText: st.SearchIndexed}
	if q.Q != "" && !st.SearchIndexed {
		page.Notices = append(page.Notices, NoticeSlowSearch)
	}
	scope := cursorScope("users", dir.ID, q.Group, q.State, q.Q)
	if err := s.fillPeople(ctx, act, &page, f, q, scope, syncVersion(st), -1); err != nil {
		return PeoplePage{}, err
	}
	if page.Groups, err = s.groupOptions(ctx, dir.ID, syncVersion(st)); err != nil {
		return PeoplePage{}, err
	}
	return page, nil
}

// fillPeople reads one page (falling back to the first page, with a
// notice, when the cursor is bad or leads nowhere) and the total.
// knownTotal ≥ 0 is used as the total instead of counting.
func (s *Service) fillPeople(ctx context.Context, act Actor, page *PeoplePage, f db.UserFilter, q ListQuery, scope, version string, knownTotal int64) error {
	f.SelectedBy = act.AdminID
	if f.FullText && f.Search != "" && f.GroupID == "" {
		n, err := counts.get(s.DB, "fts/"+f.Search, version, s.now(), func() ([]int64, error) {
			n, err := s.DB.SearchMatches(ctx, f.Search)
			return []int64{n}, err
		})
		if err != nil {
			return err
		}
		f.Matches, f.MatchesKnown = n[0], true
	}
	req, notice := pageRequest(q, scope)
	res, err := s.DB.BrowseUsers(ctx, f, req)
	if err != nil {
		return err
	}
	if notice == "" && (req.After != nil || req.Before != nil) && len(res.Rows) == 0 {
		// A cursor that leads to an empty page is stale (the rows around it
		// are gone, or it was made up): show the first page instead.
		notice = NoticeBadCursor
		req = db.PageRequest{Limit: q.Limit}
		if res, err = s.DB.BrowseUsers(ctx, f, req); err != nil {
			return err
		}
	}
	if notice != "" {
		page.Notices = append(page.Notices, notice)
		q.After, q.Before = "", ""
	}
	page.Query = q
	page.PrevCursor, page.NextCursor = pageCursors(res.Rows, res.HasPrev, res.HasNext, scope)
	page.Rows = make([]Person, len(res.Rows))
	for i, r := range res.Rows {
		page.Rows[i] = Person{ID: r.ID, Name: DisplayName(r.FirstName, r.LastName, r.Name, r.Email, r.ID), Email: r.Email,
			JobTitle: r.JobTitle, Department: r.Department, State: r.State, AccountID: r.AccountID, AccountState: r.AccountState,
			Selected: r.Selected}
	}
	if knownTotal >= 0 {
		page.Total = knownTotal
		return nil
	}
	key := fmt.Sprintf("users/%s/%s/%s/%v/%s", f.DirectoryID, f.GroupID, f.State, f.FullText, f.Search)
	n, err := counts.get(s.DB, key, version, s.now(), func() ([]int64, error) {
		n, err := s.DB.CountUsers(ctx, f)
		return []int64{n}, err
	})
	if err != nil {
		return err
	}
	page.Total = n[0]
	return nil
}

// GroupOption is a group offered in a filter.
type GroupOption struct {
	ID   string
	Name string
}

// directoryCounts returns a directory's live users and groups, cached
// while its sync state is unchanged (the same entry the directories page uses).
func (s *Service) directoryCounts(ctx context.Context, directoryID, version string) (users, groups int64, err error) {
	n, err := counts.get(s.DB, "dir/"+directoryID, version, s.now(), func() ([]int64, error) {
		u, g, err := s.DB.DirectoryCounts(ctx, directoryID)
		return []int64{u, g}, err
	})
	if err != nil {
		return 0, 0, err
	}
	return n[0], n[1], nil
}

// groupOptions lists up to GroupsFilterLimit groups of a directory by name,
// for the users page's group filter (nil when there are more: the cached
// count says so without reading any names).
func (s *Service) groupOptions(ctx context.Context, directoryID, version string) ([]GroupOption, error) {
	if _, n, err := s.directoryCounts(ctx, directoryID, version); err != nil || n > GroupsFilterLimit || n == 0 {
		return nil, err
	}
	groups, more, err := s.DB.GroupNames(ctx, directoryID, GroupsFilterLimit)
	if err != nil || more {
		return nil, err
	}
	out := make([]GroupOption, len(groups))
	for i, g := range groups {
		out[i] = GroupOption{ID: g.ID, Name: g.Name}
	}
	return out, nil
}

// GroupSummary is one group on a list.
type GroupSummary struct {
	ID       string
	Name     string
	Members  int64
	Selected bool
}

// GroupsPage is one page of a directory's groups.
type GroupsPage struct {
	Directory  DirectoryRef
	Query      ListQuery
	Rows       []GroupSummary
	Total      int64
	PrevCursor string
	NextCursor string
	Notices    []string
}

// DirectoryGroups returns a page of a directory's groups (search: a part
// of the name; state and group filters do not apply).
func (s *Service) DirectoryGroups(ctx context.Context, act Actor, directoryID string, q ListQuery) (GroupsPage, error) {
	dir, st, err := s.visibleDirectory(ctx, act, directoryID)
	if err != nil {
		return GroupsPage{}, err
	}
	q.State, q.Group = "", ""
	page := GroupsPage{Directory: dir}
	f := db.GroupFilter{DirectoryID: dir.ID, Search: q.Q}
	scope := cursorScope("groups", dir.ID, q.Q)
	req, notice := pageRequest(q, scope)
	res, err := s.DB.BrowseGroups(ctx, f, req)
	if err != nil {
		return GroupsPage{}, err
	}
	if notice == "" && (req.After != nil || req.Before != nil) && len(res.Rows) == 0 {
		notice = NoticeBadCursor
		if res, err = s.DB.BrowseGroups(ctx, f, db.PageRequest{Limit: q.Limit}); err != nil {
			return GroupsPage{}, err
		}
	}
	if notice != "" {
		page.Notices = append(page.Notices, notice)
		q.After, q.Before = "", ""
	}
	page.Query = q
	page.PrevCursor, page.NextCursor = pageCursors(res.Rows, res.HasPrev, res.HasNext, scope)
	ids := make([]string, len(res.Rows))
	for i, g := range res.Rows {
		ids[i] = g.ID
		page.Rows = append(page.Rows, GroupSummary{ID: g.ID, Name: g.Name, Members: g.Members})
	}
	if act.AdminID != 0 {
		sel, err := s.DB.SelectedAmong(ctx, act.AdminID, db.SelectGroup, ids)
		if err != nil {
			return GroupsPage{}, err
		}
		for i := range page.Rows {
			page.Rows[i].Selected = sel[page.Rows[i].ID]
		}
	}
	n, err := counts.get(s.DB, "groups/"+dir.ID+"/"+q.Q, syncVersion(st), s.now(), func() ([]int64, error) {
		n, err := s.DB.CountGroups(ctx, f)
		return []int64{n}, err
	})
	if err != nil {
		return GroupsPage{}, err
	}
	page.Total = n[0]
	return page, nil
}

// GroupPage is a group with a page of its members.
type GroupPage struct {
	ID       string
	Name     string
	IdpID    string
	Members  int64 // every member
	Selected bool  // the group is in the actor's selection
	People   PeoplePage
}

// Group returns a group the actor may see with a page of its members by
// name (search and state filters apply to the members).
func (s *Service) Group(ctx context.Context, act Actor, groupID string, q ListQuery) (GroupPage, error) {
	g, err := s.DB.LiveGroup(ctx, groupID)
	if errors.Is(err, db.ErrNotFound) {
		return GroupPage{}, ErrNotFound
	}
	if err != nil {
		return GroupPage{}, err
	}
	dir, st, err := s.visibleDirectory(ctx, act, g.DirectoryID)
	if err != nil {
		return GroupPage{}, err
	}
	// Counting a big group's members reads them all: cached like the
	// other totals, until the directory's sync state changes.
	n, err := counts.get(s.DB, "members/"+g.ID, syncVersion(st), s.now(), func() ([]int64, error) {
		m, err := s.DB.GroupMemberCount(ctx, g.ID)
		return []int64{m}, err
	})
	if err != nil {
		return GroupPage{}, err
	}
	members := n[0]
	out := GroupPage{ID: g.ID, Name: g.Name, IdpID: g.IdpID, Members: members}
	q.Group = ""
	out.People = PeoplePage{Directory: dir, GroupName: g.Name, Indexed: st.SearchIndexed}
	if q.Q != "" && !st.SearchIndexed {
		out.People.Notices = append(out.People.Notices, NoticeSlowSearch)
	}
	f := db.UserFilter{DirectoryID: dir.ID, GroupID: g.ID, State: q.State, Search: q.Q, FullText: st.SearchIndexed}
	known := int64(-1)
	if q.Q == "" && q.State == "" {
		known = members
	}
	scope := cursorScope("members", g.ID, q.State, q.Q)
	if err := s.fillPeople(ctx, act, &out.People, f, q, scope, syncVersion(st), known); err != nil {
		return GroupPage{}, err
	}
	if act.AdminID != 0 {
		sel, err := s.DB.SelectedAmong(ctx, act.AdminID, db.SelectGroup, []string{g.ID})
		if err != nil {
			return GroupPage{}, err
		}
		out.Selected = sel[g.ID]
	}
	return out, nil
}

// Attribute is one named value of a person, as text.
type Attribute struct {
	Name  string
	Value string
}

// EmailAddress is one of a person's addresses.
type EmailAddress struct {
	Value   string
	Type    string
	Primary bool
}

// HistoryEntry is a directory change the sync applied to a person.
type HistoryEntry struct {
	At     time.Time
	Action string
	Detail string
}

// PersonDetail is everything Roster holds about a directory person.
type PersonDetail struct {
	Directory    DirectoryRef
	ID           string
	Name         string
	FirstName    string
	LastName     string
	FullName     string // the directory's own "name" field
	Email        string
	Username     string
	JobTitle     string
	Department   string
	ManagerEmail string
	State        string
	Role         string
	Roles        []string
	IdpID        string
	Emails       []EmailAddress
	Custom       []Attribute // custom attributes by name; nested values as compact JSON
	CreatedAt    time.Time   // at the source
	UpdatedAt    time.Time   // at the source
	LastEventID  string
	Groups       []GroupOption
	HasAccount   bool
	AccountID    string
	AccountEmail string
	AccountState string
	AccountRole  string
	History      []HistoryEntry
	Selected     bool
}

// Person returns a directory person the actor may see.
func (s *Service) Person(ctx context.Context, act Actor, userID string) (PersonDetail, error) {
	u, err := s.DB.LiveUser(ctx, userID)
	if errors.Is(err, db.ErrNotFound) {
		return PersonDetail{}, ErrNotFound
	}
	if err != nil {
		return PersonDetail{}, err
	}
	dir, _, err := s.visibleDirectory(ctx, act, u.DirectoryID)
	if err != nil {
		return PersonDetail{}, err
	}
	p := PersonDetail{Directory: dir, ID: u.ID, Name: DisplayName(u.FirstName, u.LastName, u.Name, u.Email, u.ID),
		FirstName: u.FirstName, LastName: u.LastName, FullName: u.Name, Email: u.Email, Username: u.Username,
		JobTitle: u.JobTitle, Department: u.Department, ManagerEmail: u.ManagerEmail, State: u.State, Role: u.Role,
		Roles: u.Roles, IdpID: u.IdpID, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastEventID: u.LastEventID}
	var emails []struct {
		Primary bool   `json:"primary"`
		Type    string `json:"type"`
		Value   string `json:"value"`
	}
	if json.Unmarshal(u.Emails, &emails) == nil {
		for _, e := range emails {
			p.Emails = append(p.Emails, EmailAddress{Value: e.Value, Type: e.Type, Primary: e.Primary})
		}
	}
	p.Custom = CustomAttributes(u.CustomAttributes)
	groups, err := s.DB.UserGroups(ctx, u.ID)
	if err != nil {
		return PersonDetail{}, err
	}
	for _, g := range groups {
		p.Groups = append(p.Groups, GroupOption{ID: g.ID, Name: g.Name})
	}
	acc, err := s.DB.AccountForUser(ctx, u.ID)
	switch {
	case err == nil:
		p.HasAccount, p.AccountID, p.AccountEmail, p.AccountState, p.AccountRole = true, acc.ID, acc.Email, acc.State, acc.Role
	case !errors.Is(err, db.ErrNotFound):
		return PersonDetail{}, err
	}
	hist, err := s.DB.UserHistory(ctx, u.ID, 50)
	if err != nil {
		return PersonDetail{}, err
	}
	for _, h := range hist {
		p.History = append(p.History, HistoryEntry{At: h.At, Action: h.Action, Detail: h.Detail})
	}
	if act.AdminID != 0 {
		sel, err := s.DB.SelectedAmong(ctx, act.AdminID, db.SelectUser, []string{u.ID})
		if err != nil {
			return PersonDetail{}, err
		}
		p.Selected = sel[u.ID]
	}
	return p, nil
}

// CustomAttributes turns a custom_attributes JSON object into name/value
// pairs by name: strings as they are, null as "", anything else (numbers,
// booleans, nested objects and arrays) as compact JSON. Text that is not a
// JSON object yields one attribute holding it.
func CustomAttributes(raw []byte) []Attribute {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return []Attribute{{Name: "(raw)", Value: string(raw)}}
	}
	out := make([]Attribute, 0, len(m))
	for k, v := range m {
		var s string
		switch {
		case json.Unmarshal(v, &s) == nil:
		case string(v) == "null":
		default:
			var buf bytes.Buffer
			if json.Compact(&buf, v) == nil {
				s = buf.String()
			} else {
				s = string(v)
			}
		}
		out = append(out, Attribute{Name: k, Value: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
