package onboarding

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"roster/internal/db"
)

// brWorld is two organisations, each with one directory of people and
// groups, and an admin of each plus a platform admin.
type brWorld struct {
	svc                  *Service
	d                    *db.DB
	platform, orgA, orgB Actor
}

func brSeedDir(t testing.TB, d *db.DB, dirID, org string, people int, indexed bool) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx db.Tx) error {
		w := d.Replica(ctx, tx)
		if err := w.UpsertDirectory(db.Directory{ID: dirID, OrganizationID: org, Name: "Directory " + dirID, Type: "okta scim v2.0", State: "linked"}); err != nil {
			return err
		}
		if err := w.PutSyncState(db.SyncState{DirectoryID: dirID, OrganizationID: org, Phase: db.PhaseLive, Mode: db.ModeBackfill, Generation: 1}); err != nil {
			return err
		}
		if err := w.ListGroup(db.DirectoryGroup{ID: dirID + "_grp", DirectoryID: dirID, OrganizationID: org, Name: "Everyone"}, 1); err != nil {
			return err
		}
		for i := 0; i < people; i++ {
			u := db.DirectoryUser{ID: fmt.Sprintf("%s_u%02d", dirID, i), DirectoryID: dirID, OrganizationID: org,
				FirstName: fmt.Sprintf("Person%02d", i), LastName: "Example", Email: fmt.Sprintf("p%02d@%s.example", i, dirID), State: "active",
				CustomAttributes: []byte(`{"job_title":"Engineer","cost_center":{"code":42},"tags":["a","b"],"empty":null}`)}
			if i%3 == 0 {
				u.State = "inactive"
			}
			if err := w.ListUser(u, 1); err != nil {
				return err
			}
			if i%2 == 0 {
				if _, err := w.ListMembership(db.Membership{DirectoryID: dirID, GroupID: dirID + "_grp", UserID: u.ID,
					UserSortKey: db.UserSortKey(u.FirstName, u.LastName, u.Name, u.Email)}, 1); err != nil {
					return err
				}
			}
		}
		if indexed {
			return w.BuildSearchIndex(dirID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// brOpen opens a fresh database in the test's temporary folder.
func brOpen(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func newBrWorld(t *testing.T) *brWorld {
	t.Helper()
	ctx := context.Background()
	d := brOpen(t)
	brSeedDir(t, d, "dir_a", "org_a", 30, true)
	brSeedDir(t, d, "dir_b", "org_b", 5, false)
	w := &brWorld{svc: &Service{DB: d}, d: d}
	for i, org := range []string{"", "org_a", "org_b"} {
		a, _, err := d.UpsertAdmin(ctx, fmt.Sprintf("admin%d@example.com", i), "x", org, db.AuditEntry{Actor: "system", Action: "test"})
		if err != nil {
			t.Fatal(err)
		}
		act := Actor{AdminID: a.ID, Email: a.Email, OrganizationID: org}
		switch org {
		case "":
			w.platform = act
		case "org_a":
			w.orgA = act
		default:
			w.orgB = act
		}
	}
	return w
}

func TestParseListQuery(t *testing.T) {
	cases := []struct {
		in      string
		want    ListQuery
		notices []string
	}{
		{"", ListQuery{Limit: 25}, nil},
		{"limit=100&q=+ada++love+&state=ACTIVE&group=g1", ListQuery{Limit: 100, Q: "ada love", State: "active", Group: "g1"}, nil},
		{"limit=7", ListQuery{Limit: 25}, []string{NoticeBadLimit}},
		{"limit=abc&state=weird", ListQuery{Limit: 25}, []string{NoticeBadLimit, NoticeBadState}},
		{"state=all&after=x", ListQuery{Limit: 25, After: "x"}, nil},
		{"after=x&before=y", ListQuery{Limit: 25}, []string{NoticeBadCursor}},
		{"q=" + strings.Repeat("é", 300), ListQuery{Limit: 25, Q: strings.Repeat("é", 200)}, []string{NoticeQueryTooBig}},
	}
	for _, c := range cases {
		v, _ := url.ParseQuery(c.in)
		got, notices := ParseListQuery(v)
		if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(notices, c.notices) {
			t.Errorf("ParseListQuery(%q) = %+v %q, want %+v %q", c.in, got, notices, c.want, c.notices)
		}
	}
	q := ListQuery{Limit: 50, Q: "a b", After: "c"}
	if got, _ := ParseListQuery(q.Values()); !reflect.DeepEqual(got, q) {
		t.Errorf("round trip = %+v, want %+v", got, q)
	}
}

func TestCursorRoundTripAndScope(t *testing.T) {
	c := db.Cursor{SortKey: "lovelace\x1fada\x1fada@x", ID: "directory_user_1"}
	tok := EncodeCursor(c, "s1")
	got, err := DecodeCursor(tok, "s1")
	if err != nil || got != c {
		t.Fatalf("decode = %+v, %v", got, err)
	}
	if _, err := DecodeCursor(tok, "s2"); !errors.Is(err, ErrBadCursor) {
		t.Errorf("cursor of another list accepted: %v", err)
	}
	for _, bad := range []string{"", "!!!", "YWJj", tok + "x", strings.Repeat("A", 5000)} {
		if _, err := DecodeCursor(bad, "s1"); err == nil {
			t.Errorf("DecodeCursor(%q) accepted", bad)
		}
	}
}

func TestBrowse_Tenancy(t *testing.T) {
	w := newBrWorld(t)
	ctx := context.Background()
	q := ListQuery{Limit: 25}
	dirs, err := w.svc.Directories(ctx, w.platform)
	if err != nil || len(dirs) != 2 {
		t.Fatalf("platform sees %d directories, %v", len(dirs), err)
	}
	dirs, err = w.svc.Directories(ctx, w.orgA)
	if err != nil || len(dirs) != 1 || dirs[0].ID != "dir_a" || dirs[0].Users != 30 || dirs[0].Groups != 1 {
		t.Fatalf("org A sees %+v, %v", dirs, err)
	}
	checks := map[string]func(Actor) error{
		"users": func(a Actor) error { _, err := w.svc.DirectoryUsers(ctx, a, "dir_b", q); return err },
		"groups": func(a Actor) error {
			_, err := w.svc.DirectoryGroups(ctx, a, "dir_b", q)
			return err
		},
		"group":  func(a Actor) error { _, err := w.svc.Group(ctx, a, "dir_b_grp", q); return err },
		"person": func(a Actor) error { _, err := w.svc.Person(ctx, a, "dir_b_u01"); return err },
		"select all": func(a Actor) error {
			_, err := w.svc.SelectMatching(ctx, a, "dir_b", q)
			return err
		},
	}
	for name, f := range checks {
		if err := f(w.orgA); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: org A reading org B: %v, want ErrNotFound", name, err)
		}
		if err := f(w.orgB); err != nil {
			t.Errorf("%s: org B reading its own: %v", name, err)
		}
		if err := f(w.platform); err != nil {
			t.Errorf("%s: platform: %v", name, err)
		}
	}
	// Unknown ids are not found either.
	if _, err := w.svc.DirectoryUsers(ctx, w.platform, "dir_nope", q); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown directory: %v", err)
	}
	if _, err := w.svc.Person(ctx, w.platform, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown person: %v", err)
	}
	// Selecting another organisation's ids adds nothing.
	n, err := w.svc.SelectPeople(ctx, w.orgA, []string{"dir_b_u01", "dir_a_u01"})
	if err != nil || n != 1 {
		t.Errorf("org A selecting = %d, %v", n, err)
	}
	if n, _ := w.svc.SelectGroups(ctx, w.orgA, []string{"dir_b_grp"}); n != 0 {
		t.Errorf("org A selected org B's group")
	}
	if _, err := w.svc.SelectPeople(ctx, w.orgA, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty selection: %v", err)
	}
}

func TestBrowse_UsersPage(t *testing.T) {
	w := newBrWorld(t)
	ctx := context.Background()
	p1, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Rows) != 10 || p1.Total != 30 || p1.PrevCursor != "" || p1.NextCursor == "" || len(p1.Notices) != 0 {
		t.Fatalf("page 1: %d rows total %d prev %q next %q notices %v", len(p1.Rows), p1.Total, p1.PrevCursor, p1.NextCursor, p1.Notices)
	}
	if p1.Rows[0].Name != "Person00 Example" {
		t.Errorf("first row = %q", p1.Rows[0].Name)
	}
	if len(p1.Groups) != 1 || p1.Groups[0].ID != "dir_a_grp" {
		t.Errorf("group filter options = %+v, want the directory's one group", p1.Groups)
	}
	p2, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 10, After: p1.NextCursor})
	if err != nil || p2.Rows[0].Name != "Person10 Example" || p2.PrevCursor == "" {
		t.Fatalf("page 2: %+v %v", p2.Rows, err)
	}
	back, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 10, Before: p2.PrevCursor})
	if err != nil || !reflect.DeepEqual(back.Rows, p1.Rows) || back.PrevCursor != "" {
		t.Fatalf("back: %+v %v", back.Rows, err)
	}
	// A cursor of another list (here: another search) is stale.
	stale, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 10, After: p1.NextCursor, Q: "person"})
	if err != nil || !reflect.DeepEqual(stale.Notices, []string{NoticeBadCursor}) || stale.Rows[0].Name != "Person00 Example" {
		t.Errorf("stale cursor: notices %v first %q err %v", stale.Notices, stale.Rows[0].Name, err)
	}
	junk, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 10, Before: "%%%"})
	if err != nil || len(junk.Notices) != 1 || len(junk.Rows) != 10 {
		t.Errorf("junk cursor: %v %v", junk.Notices, err)
	}
	// Filters and search.
	inactive, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 25, State: "inactive"})
	if err != nil || inactive.Total != 10 {
		t.Errorf("inactive total = %d, %v", inactive.Total, err)
	}
	grp, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 25, Group: "dir_a_grp", State: "active"})
	if err != nil || grp.Total != 10 || grp.GroupName != "Everyone" {
		t.Errorf("group+active total = %d (%q), %v", grp.Total, grp.GroupName, err)
	}
	badGroup, err := w.svc.DirectoryUsers(ctx, w.platform, "dir_a", ListQuery{Limit: 25, Group: "dir_b_grp"})
	if err != nil || badGroup.Total != 30 || !reflect.DeepEqual(badGroup.Notices, []string{NoticeBadGroup}) {
		t.Errorf("foreign group filter: total %d notices %v %v", badGroup.Total, badGroup.Notices, err)
	}
	s, err := w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 25, Q: "person07"})
	if err != nil || s.Total != 1 || s.Rows[0].ID != "dir_a_u07" || len(s.Notices) != 0 {
		t.Errorf("search: %+v %v", s, err)
	}
	slow, err := w.svc.DirectoryUsers(ctx, w.orgB, "dir_b", ListQuery{Limit: 25, Q: "person01"})
	if err != nil || slow.Total != 1 || !reflect.DeepEqual(slow.Notices, []string{NoticeSlowSearch}) {
		t.Errorf("unindexed search: total %d notices %v %v", slow.Total, slow.Notices, err)
	}
	// Selected rows are marked.
	if _, err := w.svc.SelectPeople(ctx, w.orgA, []string{"dir_a_u01"}); err != nil {
		t.Fatal(err)
	}
	p1, _ = w.svc.DirectoryUsers(ctx, w.orgA, "dir_a", ListQuery{Limit: 10})
	if p1.Rows[0].Selected || !p1.Rows[1].Selected {
		t.Errorf("selected marks wrong: %v %v", p1.Rows[0].Selected, p1.Rows[1].Selected)
	}
}

func TestBrowse_GroupAndPerson(t *testing.T) {
	w := newBrWorld(t)
	ctx := context.Background()
	g, err := w.svc.Group(ctx, w.orgA, "dir_a_grp", ListQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if g.Members != 15 || g.People.Total != 15 || len(g.People.Rows) != 10 || g.People.NextCursor == "" {
		t.Fatalf("group: members %d total %d rows %d", g.Members, g.People.Total, len(g.People.Rows))
	}
	g2, err := w.svc.Group(ctx, w.orgA, "dir_a_grp", ListQuery{Limit: 10, After: g.People.NextCursor})
	if err != nil || len(g2.People.Rows) != 5 || g2.People.NextCursor != "" || g2.People.Rows[0].ID != "dir_a_u20" {
		t.Fatalf("group page 2: %+v %v", g2.People.Rows, err)
	}
	p, err := w.svc.Person(ctx, w.orgA, "dir_a_u02")
	if err != nil {
		t.Fatal(err)
	}
	want := []Attribute{{"cost_center", `{"code":42}`}, {"empty", ""}, {"job_title", "Engineer"}, {"tags", `["a","b"]`}}
	if !reflect.DeepEqual(p.Custom, want) {
		t.Errorf("custom = %+v", p.Custom)
	}
	if len(p.Groups) != 1 || p.Groups[0].Name != "Everyone" || p.HasAccount || p.Directory.OrganizationName == "" {
		t.Errorf("person: %+v", p)
	}
}

func TestSelection_Headcount(t *testing.T) {
	w := newBrWorld(t)
	ctx := context.Background()
	a := w.orgA
	if _, err := w.svc.SelectPeople(ctx, a, []string{"dir_a_u00", "dir_a_u01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SelectGroups(ctx, a, []string{"dir_a_grp"}); err != nil {
		t.Fatal(err)
	}
	// 15 members (even numbers) + u01 (odd) = 16; u00 counted once.
	if n, err := w.svc.SelectionHeadcount(ctx, a); err != nil || n != 16 {
		t.Errorf("headcount = %d, %v", n, err)
	}
	v, err := w.svc.Selection(ctx, a)
	if err != nil || v.Headcount != 16 || v.PeopleTotal != 2 || len(v.Groups) != 1 || v.Groups[0].Members != 15 {
		t.Errorf("selection = %+v, %v", v, err)
	}
	n, err := w.svc.SelectMatching(ctx, a, "dir_a", ListQuery{Q: "person1"})
	if err != nil || n != 10 {
		t.Errorf("select matching person1* = %d, %v", n, err)
	}
	if _, err := w.svc.Unselect(ctx, a, "bogus", []string{"x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad kind: %v", err)
	}
	if n, err := w.svc.ClearSelection(ctx, a); err != nil || n != 13 {
		t.Errorf("clear = %d, %v", n, err)
	}
	if n, _ := w.svc.SelectionHeadcount(ctx, a); n != 0 {
		t.Errorf("after clear: %d", n)
	}
}

// FuzzParseListQuery checks that no URL makes list parsing or cursor
// decoding fail or produce values outside what the pages accept.
func FuzzParseListQuery(f *testing.F) {
	for _, s := range []string{"", "limit=10&q=ada", "limit=-1", "limit=99999999999999999999", "q=%22OR%22*&state=all",
		"after=" + EncodeCursor(db.Cursor{SortKey: "a", ID: "b"}, "x"), "before=%00%ff", "group=g&state=inactive"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, _ := ParseListQuery(v)
		ok := false
		for _, n := range PageSizes {
			ok = ok || q.Limit == n
		}
		if !ok {
			t.Fatalf("limit %d", q.Limit)
		}
		if q.State != "" && q.State != "active" && q.State != "inactive" {
			t.Fatalf("state %q", q.State)
		}
		if len([]rune(q.Q)) > maxQueryLen {
			t.Fatalf("q too long")
		}
		if q.After != "" && q.Before != "" {
			t.Fatal("both cursors kept")
		}
		_, _ = DecodeCursor(q.After, "scope")
		_ = db.FTSMatch(q.Q)
	})
}

// FuzzParseCursor checks that decoding never panics and that whatever it
// accepts encodes back to the same position.
func FuzzParseCursor(f *testing.F) {
	f.Add(EncodeCursor(db.Cursor{SortKey: "lovelace\x1fada", ID: "u1"}, "s"))
	f.Add("")
	f.Add("AAAA")
	f.Add("====")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := DecodeCursor(tok, "s")
		if err != nil {
			return
		}
		c2, err := DecodeCursor(EncodeCursor(c, "s"), "s")
		if err != nil || c2 != c {
			t.Fatalf("round trip of %q: %+v %v", tok, c2, err)
		}
	})
}

// A directory with more groups than the filter can offer gets no group
// filter (and the count that says so comes from the cache, not a listing).
func TestBrowse_GroupFilterTooManyGroups(t *testing.T) {
	ctx := context.Background()
	d := brOpen(t)
	brSeedDir(t, d, "dir_big", "", 3, true)
	svc := &Service{DB: d}
	p, err := svc.DirectoryUsers(ctx, Actor{}, "dir_big", ListQuery{Limit: 25})
	if err != nil || len(p.Groups) != 1 {
		t.Fatalf("one group: options %+v, %v", p.Groups, err)
	}
	err = d.Tx(ctx, func(tx db.Tx) error {
		w := d.Replica(ctx, tx)
		for i := range GroupsFilterLimit {
			g := db.DirectoryGroup{ID: fmt.Sprintf("dir_big_g%03d", i), DirectoryID: "dir_big", Name: fmt.Sprintf("Team %03d", i)}
			if err := w.ListGroup(g, 1); err != nil {
				return err
			}
		}
		// Any sync write rewrites the sync state, which expires cached counts.
		return w.PutSyncState(db.SyncState{DirectoryID: "dir_big", Phase: db.PhaseLive, Mode: db.ModeBackfill, Generation: 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err = svc.DirectoryUsers(ctx, Actor{}, "dir_big", ListQuery{Limit: 25})
	if err != nil || p.Groups != nil || len(p.Rows) != 3 {
		t.Fatalf("%d groups: options %d, rows %d, %v; want no group filter", GroupsFilterLimit+1, len(p.Groups), len(p.Rows), err)
	}
}
