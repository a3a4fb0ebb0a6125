package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// btDir describes a directory to seed for the browse tests.
type btDir struct {
	ID, Org string
	Users   []DirectoryUser
	Groups  []DirectoryGroup
	Members map[string][]string // group id → user ids
	Indexed bool                // build the search index
}

func btOpen(t testing.TB) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func btSeed(t testing.TB, d *DB, dir btDir) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx Tx) error {
		w := d.Replica(ctx, tx)
		if err := w.UpsertDirectory(Directory{ID: dir.ID, OrganizationID: dir.Org, Name: "Dir " + dir.ID, State: "linked", Type: "okta scim v2.0"}); err != nil {
			return err
		}
		if err := w.PutSyncState(SyncState{DirectoryID: dir.ID, OrganizationID: dir.Org, Phase: PhaseLive, Mode: ModeBackfill, Generation: 1}); err != nil {
			return err
		}
		for _, u := range dir.Users {
			u.DirectoryID, u.OrganizationID = dir.ID, dir.Org
			if u.State == "" {
				u.State = "active"
			}
			if err := w.ListUser(u, 1); err != nil {
				return err
			}
		}
		sortKeys := map[string]string{}
		for _, u := range dir.Users {
			sortKeys[u.ID] = UserSortKey(u.FirstName, u.LastName, u.Name, u.Email)
		}
		for _, g := range dir.Groups {
			g.DirectoryID, g.OrganizationID = dir.ID, dir.Org
			if err := w.ListGroup(g, 1); err != nil {
				return err
			}
		}
		for gid, uids := range dir.Members {
			for _, uid := range uids {
				if _, err := w.ListMembership(Membership{DirectoryID: dir.ID, GroupID: gid, UserID: uid, UserSortKey: sortKeys[uid]}, 1); err != nil {
					return err
				}
			}
		}
		if dir.Indexed {
			return w.BuildSearchIndex(dir.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// btPeople makes n people with names that sort in a known order, some of
// them sharing a last name (so the id breaks ties).
func btPeople(prefix string, n int) []DirectoryUser {
	out := make([]DirectoryUser, n)
	for i := range out {
		out[i] = DirectoryUser{
			ID:        fmt.Sprintf("%s_user_%03d", prefix, i),
			FirstName: fmt.Sprintf("First%03d", i),
			LastName:  fmt.Sprintf("Last%02d", i/2), // pairs share a last name
			Email:     fmt.Sprintf("p%03d@%s.example", i, prefix),
		}
	}
	return out
}

func ids(rows []UserRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func TestBrowseUsers_KeysetForwardAndBack(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	btSeed(t, d, btDir{ID: "dir_a", Org: "org_a", Users: btPeople("a", 53)})
	f := UserFilter{DirectoryID: "dir_a"}

	var forward []UserPage
	p := PageRequest{Limit: 10}
	for {
		page, err := d.BrowseUsers(ctx, f, p)
		if err != nil {
			t.Fatal(err)
		}
		forward = append(forward, page)
		if !page.HasNext {
			break
		}
		c := page.Rows[len(page.Rows)-1].Cursor()
		p = PageRequest{Limit: 10, After: &c}
	}
	if len(forward) != 6 {
		t.Fatalf("pages = %d, want 6", len(forward))
	}
	if forward[0].HasPrev {
		t.Error("first page says it has a previous page")
	}
	if got := len(forward[5].Rows); got != 3 {
		t.Errorf("last page has %d rows, want 3", got)
	}
	var all []string
	for _, pg := range forward {
		all = append(all, ids(pg.Rows)...)
	}
	want := ids(nil)
	for i := 0; i < 53; i++ {
		want = append(want, fmt.Sprintf("a_user_%03d", i))
	}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("forward order:\n got %v\nwant %v", all, want)
	}
	// Walk back from the last page with Before cursors: the same pages.
	for i := len(forward) - 1; i > 0; i-- {
		c := forward[i].Rows[0].Cursor()
		back, err := d.BrowseUsers(ctx, f, PageRequest{Limit: 10, Before: &c})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(back.Rows), ids(forward[i-1].Rows)) {
			t.Errorf("page %d backwards = %v, want %v", i-1, ids(back.Rows), ids(forward[i-1].Rows))
		}
		if back.HasPrev != (i-1 > 0) || !back.HasNext {
			t.Errorf("page %d backwards: HasPrev=%v HasNext=%v", i-1, back.HasPrev, back.HasNext)
		}
	}
	// A cursor past the end gives an empty page; one before the start too.
	end := Cursor{SortKey: "\U0010FFFF", ID: "z"}
	page, err := d.BrowseUsers(ctx, f, PageRequest{Limit: 10, After: &end})
	if err != nil || len(page.Rows) != 0 || page.HasNext {
		t.Errorf("after end: %v rows, HasNext %v, err %v", len(page.Rows), page.HasNext, err)
	}
	start := Cursor{}
	page, err = d.BrowseUsers(ctx, f, PageRequest{Limit: 10, Before: &start})
	if err != nil || len(page.Rows) != 0 || page.HasPrev {
		t.Errorf("before start: %v rows, HasPrev %v, err %v", len(page.Rows), page.HasPrev, err)
	}
	// A cursor whose row was deleted still pages from its place.
	gone := forward[1].Rows[9].Cursor()
	if err := d.Tx(ctx, func(tx Tx) error {
		_, err := d.Replica(ctx, tx).DeleteUser(DirectoryUser{ID: gone.ID, DirectoryID: "dir_a"}, 1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	page, err = d.BrowseUsers(ctx, f, PageRequest{Limit: 10, After: &gone})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids(page.Rows), ids(forward[2].Rows)) {
		t.Errorf("after a deleted row = %v, want %v", ids(page.Rows), ids(forward[2].Rows))
	}
	n, err := d.CountUsers(ctx, f)
	if err != nil || n != 52 {
		t.Errorf("count = %d, %v; want 52", n, err)
	}
}

func TestBrowseUsers_SearchAndFilters(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	users := []DirectoryUser{
		{ID: "u_ada", FirstName: "Ada", LastName: "Lovelace", Email: "ada@corp.example", JobTitle: "Engineer", Department: "R&D"},
		{ID: "u_zoe", FirstName: "Zoë", LastName: "Ångström", Email: "zoe@corp.example", JobTitle: "Designer", Department: "Product"},
		{ID: "u_yuki", FirstName: "由紀", LastName: "山田", Email: "yuki@corp.example", JobTitle: "エンジニア"},
		{ID: "u_olga", FirstName: "Ольга", LastName: "Ёлкина", Email: "olga@corp.example", Department: "Продажи"},
		{ID: "u_rtl", FirstName: "مريم", LastName: "حداد", Email: "maryam@corp.example"},
		{ID: "u_script", FirstName: "Bob", LastName: "Tables", Email: "bob@corp.example", JobTitle: `<script>alert(1)</script>`, State: "inactive"},
		{ID: "u_or", FirstName: "Oriana", LastName: "Near", Email: "oriana@corp.example", JobTitle: "Engineer", State: "inactive"},
	}
	groups := []DirectoryGroup{{ID: "g_eng", Name: "Engineering"}}
	for _, indexed := range []bool{true, false} {
		t.Run(fmt.Sprintf("indexed=%v", indexed), func(t *testing.T) {
			dirID := fmt.Sprintf("dir_%v", indexed)
			us := make([]DirectoryUser, len(users))
			for i, u := range users {
				u.ID = dirID + u.ID
				us[i] = u
			}
			gs := []DirectoryGroup{{ID: dirID + groups[0].ID, Name: groups[0].Name}}
			btSeed(t, d, btDir{ID: dirID, Org: "org", Users: us, Groups: gs, Indexed: indexed,
				Members: map[string][]string{gs[0].ID: {dirID + "u_ada", dirID + "u_or", dirID + "u_yuki"}}})
			search := func(q, state, group string) []string {
				t.Helper()
				if group != "" {
					group = dirID + group
				}
				f := UserFilter{DirectoryID: dirID, Search: q, State: state, GroupID: group, FullText: indexed}
				page, err := d.BrowseUsers(ctx, f, PageRequest{Limit: 50})
				if err != nil {
					t.Fatalf("search %q: %v", q, err)
				}
				n, err := d.CountUsers(ctx, f)
				if err != nil {
					t.Fatalf("count %q: %v", q, err)
				}
				if int(n) != len(page.Rows) {
					t.Errorf("search %q: count %d, rows %d", q, n, len(page.Rows))
				}
				var out []string
				for _, r := range page.Rows {
					out = append(out, r.ID[len(dirID):])
				}
				return out
			}
			cases := []struct {
				q, state, group string
				want            []string
			}{
				{q: "ADA", want: []string{"u_ada"}},
				{q: "love", want: []string{"u_ada"}},
				{q: "engineer", want: []string{"u_ada", "u_or"}},
				{q: "engineer", state: "active", want: []string{"u_ada"}},
				{q: "engineer", state: "inactive", want: []string{"u_or"}},
				{q: "山田", want: []string{"u_yuki"}},
				{q: "ёлкина", want: []string{"u_olga"}},
				{q: "ЁЛК", want: []string{"u_olga"}},
				{q: "مريم", want: []string{"u_rtl"}},
				{q: "ada lovelace", want: []string{"u_ada"}},
				{q: "ada zzz", want: nil},
				{q: "yuki@corp", want: []string{"u_yuki"}},
				{group: "g_eng", want: []string{"u_ada", "u_or", "u_yuki"}},
				{group: "g_eng", state: "inactive", want: []string{"u_or"}},
				{q: "ori", group: "g_eng", want: []string{"u_or"}},
				// FTS syntax is taken literally, never an error.
				{q: `"`, want: []string{"u_ada", "u_or", "u_script", "u_zoe", "u_olga", "u_rtl", "u_yuki"}},
				{q: `-ada`, want: []string{"u_ada"}},
				{q: `ada OR bob`, want: nil},
				{q: `near`, want: []string{"u_or"}},
				{q: `ada*`, want: []string{"u_ada"}},
				{q: `NEAR(ada bob)`, want: nil},
				{q: `"ada`, want: []string{"u_ada"}},
				{q: `<script>`, want: []string{"u_script"}},
				{q: `^ada`, want: []string{"u_ada"}},
			}
			if indexed {
				// Diacritics are folded by the index only.
				cases = append(cases,
					struct {
						q, state, group string
						want            []string
					}{q: "zoe angstrom", want: []string{"u_zoe"}})
			}
			for _, c := range cases {
				got := search(c.q, c.state, c.group)
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("search q=%q state=%q group=%q = %v, want %v", c.q, c.state, c.group, got, c.want)
				}
			}
		})
	}
}

func TestFTSMatch(t *testing.T) {
	cases := map[string]string{
		"ada":               `"ada*"`,
		`ada "lovelace`:     `"ada*" "lovelace*"`,
		"-x OR y":           `"x*" "OR*" "y*"`,
		"***":               "",
		"":                  "",
		"山田 太郎":             `"山田*" "太郎*"`,
		"a b c d e f g h i": `"a*" "b*" "c*" "d*" "e*" "f*" "g*" "h*"`,
	}
	for in, want := range cases {
		if got := FTSMatch(in); got != want {
			t.Errorf("FTSMatch(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBrowseGroups_PagingSearchCounts(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	users := btPeople("g", 12)
	var groups []DirectoryGroup
	members := map[string][]string{}
	for i := 0; i < 23; i++ {
		id := fmt.Sprintf("grp_%02d", i)
		groups = append(groups, DirectoryGroup{ID: id, Name: fmt.Sprintf("Team %02d", i)})
		for j := 0; j < i%5; j++ {
			members[id] = append(members[id], users[j].ID)
		}
	}
	groups = append(groups, DirectoryGroup{ID: "grp_sales", Name: "Sales EMEA"})
	btSeed(t, d, btDir{ID: "dir_g", Org: "org", Users: users, Groups: groups, Members: members})

	f := GroupFilter{DirectoryID: "dir_g"}
	p1, err := d.BrowseGroups(ctx, f, PageRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Rows) != 10 || !p1.HasNext || p1.HasPrev {
		t.Fatalf("page 1: %d rows next=%v prev=%v", len(p1.Rows), p1.HasNext, p1.HasPrev)
	}
	for _, g := range p1.Rows {
		var i int
		if _, err := fmt.Sscanf(g.ID, "grp_%d", &i); err == nil && g.Members != int64(i%5) {
			t.Errorf("%s members = %d, want %d", g.ID, g.Members, i%5)
		}
	}
	c := p1.Rows[9].Cursor()
	p2, err := d.BrowseGroups(ctx, f, PageRequest{Limit: 10, After: &c})
	if err != nil {
		t.Fatal(err)
	}
	c2 := p2.Rows[0].Cursor()
	back, err := d.BrowseGroups(ctx, f, PageRequest{Limit: 10, Before: &c2})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Rows, p1.Rows) || back.HasPrev {
		t.Errorf("back to page 1 differs")
	}
	s, err := d.BrowseGroups(ctx, GroupFilter{DirectoryID: "dir_g", Search: "emea"}, PageRequest{Limit: 10})
	if err != nil || len(s.Rows) != 1 || s.Rows[0].ID != "grp_sales" {
		t.Errorf("search emea = %+v, %v", s.Rows, err)
	}
	if n, err := d.CountGroups(ctx, f); err != nil || n != 24 {
		t.Errorf("count = %d, %v", n, err)
	}
	if n, err := d.GroupMemberCount(ctx, "grp_04"); err != nil || n != 4 {
		t.Errorf("members of grp_04 = %d, %v", n, err)
	}
	// Members of a group page by name through the membership index.
	mp, err := d.BrowseUsers(ctx, UserFilter{DirectoryID: "dir_g", GroupID: "grp_04"}, PageRequest{Limit: 3})
	if err != nil || len(mp.Rows) != 3 || !mp.HasNext {
		t.Fatalf("members page: %d rows next=%v err=%v", len(mp.Rows), mp.HasNext, err)
	}
	mc := mp.Rows[2].Cursor()
	mp2, err := d.BrowseUsers(ctx, UserFilter{DirectoryID: "dir_g", GroupID: "grp_04"}, PageRequest{Limit: 3, After: &mc})
	if err != nil || len(mp2.Rows) != 1 || mp2.HasNext || mp2.Rows[0].ID != users[3].ID {
		t.Errorf("members page 2: %+v next=%v err=%v", ids(mp2.Rows), mp2.HasNext, err)
	}
	// A group of another directory has no members in this one.
	other, err := d.BrowseUsers(ctx, UserFilter{DirectoryID: "dir_other", GroupID: "grp_04"}, PageRequest{Limit: 3})
	if err != nil || len(other.Rows) != 0 {
		t.Errorf("cross-directory group filter returned %v", ids(other.Rows))
	}
}

func TestDirectoryOverviewsAndDetails(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	btSeed(t, d, btDir{ID: "dir_1", Org: "org_1", Users: btPeople("x", 3),
		Groups: []DirectoryGroup{{ID: "grp_x", Name: "X"}}, Members: map[string][]string{"grp_x": {"x_user_001"}}})
	btSeed(t, d, btDir{ID: "dir_2", Org: "org_2", Users: btPeople("y", 2)})
	all, err := d.ListDirectoryOverviews(ctx, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("all = %d, %v", len(all), err)
	}
	if !all[0].HasSyncState || all[0].Sync.Phase != PhaseLive {
		t.Errorf("sync state not read: %+v", all[0])
	}
	mine, err := d.ListDirectoryOverviews(ctx, "org_2")
	if err != nil || len(mine) != 1 || mine[0].ID != "dir_2" {
		t.Fatalf("org_2 = %+v, %v", mine, err)
	}
	if u, g, err := d.DirectoryCounts(ctx, "dir_1"); err != nil || u != 3 || g != 1 {
		t.Errorf("counts = %d %d %v", u, g, err)
	}
	gr, err := d.UserGroups(ctx, "x_user_001")
	if err != nil || len(gr) != 1 || gr[0].Name != "X" {
		t.Errorf("user groups = %+v %v", gr, err)
	}
	if _, err := d.LiveUser(ctx, "nope"); err != ErrNotFound {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := d.LiveGroup(ctx, "nope"); err != ErrNotFound {
		t.Errorf("unknown group: %v", err)
	}
	if _, err := d.AccountForUser(ctx, "x_user_001"); err != ErrNotFound {
		t.Errorf("account without accounts table: %v", err)
	}
	if err := d.Audit(ctx, AuditEntry{Actor: "sync", Action: "sync.user_updated", Target: "x_user_001", Detail: "job_title"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Audit(ctx, AuditEntry{Actor: "ada@example.com", Action: "invite.created", Target: "x_user_001"}); err != nil {
		t.Fatal(err)
	}
	h, err := d.UserHistory(ctx, "x_user_001", 10)
	if err != nil || len(h) != 1 || h[0].Detail != "job_title" {
		t.Errorf("history = %+v %v", h, err)
	}
}

func TestSelection(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	btSeed(t, d, btDir{ID: "dir_s", Org: "org_s", Users: btPeople("s", 10),
		Groups: []DirectoryGroup{{ID: "grp_s1", Name: "One"}, {ID: "grp_s2", Name: "Two"}},
		Members: map[string][]string{
			"grp_s1": {"s_user_000", "s_user_001", "s_user_002"},
			"grp_s2": {"s_user_002", "s_user_003"},
		}})
	btSeed(t, d, btDir{ID: "dir_o", Org: "org_o", Users: btPeople("o", 2), Groups: []DirectoryGroup{{ID: "grp_o", Name: "Other"}}})
	if _, err := d.w.Exec(`INSERT INTO admins (id, email, password_hash, created_at, updated_at) VALUES (1, 'a@x', 'h', '', ''), (2, 'b@x', 'h', '', '')`); err != nil {
		t.Fatal(err)
	}
	count := func(admin int64) int64 {
		t.Helper()
		n, err := d.SelectionHeadcount(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(1) != 0 {
		t.Fatal("fresh selection not empty")
	}
	// Org-scoped add ignores another organisation's ids and unknown ids.
	n, err := d.SelectUsers(ctx, 1, "org_s", []string{"s_user_000", "s_user_005", "o_user_000", "nope"})
	if err != nil || n != 2 {
		t.Fatalf("select users = %d, %v", n, err)
	}
	if n, _ := d.SelectUsers(ctx, 1, "org_s", []string{"s_user_000"}); n != 0 {
		t.Errorf("selecting twice added %d", n)
	}
	if n, _ := d.SelectGroups(ctx, 1, "org_s", []string{"grp_s1", "grp_s2", "grp_o"}); n != 2 {
		t.Errorf("select groups = %d", n)
	}
	// s_user_000 (direct and via s1), 001, 002 (s1 and s2), 003, 005: five people.
	if got := count(1); got != 5 {
		t.Errorf("headcount = %d, want 5", got)
	}
	if count(2) != 0 {
		t.Error("another admin's selection is not separate")
	}
	list, err := d.ListSelection(ctx, 1, 100)
	if err != nil || list.UsersTotal != 2 || len(list.Users) != 2 || len(list.Groups) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if list.Groups[0].Members != 3 || list.Groups[1].Members != 2 {
		t.Errorf("group member counts = %d, %d", list.Groups[0].Members, list.Groups[1].Members)
	}
	sel, err := d.SelectedAmong(ctx, 1, SelectUser, []string{"s_user_000", "s_user_001"})
	if err != nil || !sel["s_user_000"] || sel["s_user_001"] {
		t.Errorf("selected among = %v, %v", sel, err)
	}
	if n, _ := d.Unselect(ctx, 1, SelectGroup, []string{"grp_s1"}); n != 1 {
		t.Errorf("unselect = %d", n)
	}
	if got := count(1); got != 4 { // 000, 005, 002, 003
		t.Errorf("headcount after removing a group = %d, want 4", got)
	}
	// Platform scope may add any organisation's people.
	if n, _ := d.SelectUsers(ctx, 1, "", []string{"o_user_001"}); n != 1 {
		t.Errorf("platform add = %d", n)
	}
	n, err = d.SelectMatchingUsers(ctx, 2, UserFilter{DirectoryID: "dir_s", Search: "first00", FullText: false})
	if err != nil || n != 10 {
		t.Errorf("select matching = %d, %v", n, err)
	}
	if n, _ := d.SelectMatchingUsers(ctx, 2, UserFilter{DirectoryID: "dir_s"}); n != 0 {
		t.Errorf("select matching twice added %d", n)
	}
	if n, err := d.ClearSelection(ctx, 2); err != nil || n != 10 || count(2) != 0 {
		t.Errorf("clear = %d, %v", n, err)
	}
	// A person the directory deletes stops counting.
	if err := d.Tx(ctx, func(tx Tx) error {
		_, err := d.Replica(ctx, tx).DeleteUser(DirectoryUser{ID: "s_user_005", DirectoryID: "dir_s"}, 1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := count(1); got != 4 { // 000, 002, 003, o_001
		t.Errorf("headcount after a deletion = %d, want 4", got)
	}
}

// A page carries each person's local account and whether the given admin
// selected them.
func TestBrowseUsers_AccountsAndSelectionMarks(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	btSeed(t, d, btDir{ID: "dir_a", Org: "org_a", Users: btPeople("a", 5)})
	admin, _, err := d.UpsertAdmin(ctx, "marks@example.com", "x", "", AuditEntry{Actor: "system", Action: "test"})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, organization_id, directory_user_id, email, state, created_at, updated_at)
			VALUES (41, 'org_a', 'a_user_002', 'p002@a.example', 'active', '', '')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SelectUsers(ctx, admin.ID, "", []string{"a_user_003"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []UserFilter{{DirectoryID: "dir_a", SelectedBy: admin.ID}, {DirectoryID: "dir_a"}} {
		page, err := d.BrowseUsers(ctx, f, PageRequest{Limit: 10})
		if err != nil || len(page.Rows) != 5 {
			t.Fatalf("page: %d rows, %v", len(page.Rows), err)
		}
		for _, r := range page.Rows {
			wantAcc, wantSel := r.ID == "a_user_002", r.ID == "a_user_003" && f.SelectedBy != 0
			if (r.AccountID == "41" && r.AccountState == "active") != wantAcc || (!wantAcc && r.AccountID != "") {
				t.Errorf("%s: account %q %q", r.ID, r.AccountID, r.AccountState)
			}
			if r.Selected != wantSel {
				t.Errorf("%s (selected by %d): Selected = %v", r.ID, f.SelectedBy, r.Selected)
			}
			if r.DirectoryID != "dir_a" {
				t.Errorf("%s: directory %q", r.ID, r.DirectoryID)
			}
		}
	}
}

// LiveDirectory answers with the organisation's name in the same query;
// tombstones and unknown ids are not found.
func TestLiveDirectory_WithOrganizationName(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	btSeed(t, d, btDir{ID: "dir_a", Org: "org_a"})
	btSeed(t, d, btDir{ID: "dir_none"})
	btSeed(t, d, btDir{ID: "dir_gone", Org: "org_a"})
	err := d.Tx(ctx, func(tx Tx) error {
		if err := UpsertOrganization(ctx, tx, Organization{ID: "org_a", Name: "Acme Corp"}, time.Now()); err != nil {
			return err
		}
		// An organisation Roster has no row for (it is named by its id).
		if _, err := tx.ExecContext(ctx, `UPDATE directories SET organization_id = 'org_unknown' WHERE id = 'dir_none'`); err != nil {
			return err
		}
		_, err := d.Replica(ctx, tx).MarkDirectoryDeleted("dir_gone")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"dir_a": "Acme Corp", "dir_none": "org_unknown"} {
		dir, name, err := d.LiveDirectory(ctx, id)
		if err != nil || dir.ID != id || name != want {
			t.Errorf("%s: %q, %q, %v; want the organisation %q", id, dir.ID, name, err, want)
		}
	}
	for _, id := range []string{"dir_gone", "dir_nope"} {
		if _, _, err := d.LiveDirectory(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", id, err)
		}
	}
}

// A page of a group's members reads the membership table by its key and,
// per member, the people list's index by its whole key: no table, no sort.
func TestGroupMembersPagePlan(t *testing.T) {
	d := openReplicaTest(t)
	f := UserFilter{DirectoryID: "directory_1", GroupID: "g1", SelectedBy: 1}
	for _, p := range []PageRequest{{Limit: 100}, {Limit: 100, After: &Cursor{SortKey: "m", ID: "u"}}, {Limit: 100, Before: &Cursor{SortKey: "m", ID: "u"}}} {
		q, args := usersPageQuery(f, p, false)
		plan := queryPlan(t, d, q, args...)
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "directory_users_list (directory_id=? AND sort_key=? AND id=?") ||
			!strings.Contains(plan, "SEARCH m USING PRIMARY KEY (group_id=?") {
			t.Errorf("plan = %s", plan)
		}
	}
}

// The resolution of a selection (made in two halves, by key parity, then
// merged) lists every selected person once, in the order of one query by
// (sort key, id), each with their own mapped values, also where people
// share a name.
func TestResolveSelection_OneNameOrderedList(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	var users []DirectoryUser
	for i := range 41 {
		// Every fifth person is a Pat Lee with one shared address: equal
		// sort keys, ordered by id.
		last, email := []string{"Zeta", "Able", "Moss", "Cole", "Lee"}[i%5], fmt.Sprintf("P%02d@R.example", i)
		if last == "Lee" {
			email = "Lee@R.example"
		}
		users = append(users, DirectoryUser{ID: fmt.Sprintf("r_user_%03d", (i*17)%41), FirstName: "Pat", LastName: last,
			Email: email, CustomAttributes: json.RawMessage(fmt.Sprintf(`{"job_title":"T%d"}`, i))})
	}
	btSeed(t, d, btDir{ID: "dir_r", Org: "org_r", Users: users, Groups: []DirectoryGroup{{ID: "grp_r", Name: "R"}},
		Members: map[string][]string{"grp_r": {"r_user_000", "r_user_001", "r_user_002"}}})
	if _, err := d.w.Exec(`INSERT INTO admins (id, email, password_hash, created_at, updated_at) VALUES (1, 'a@x', 'h', '', '')`); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range users[:37] {
		ids = append(ids, u.ID)
	}
	if _, err := d.SelectUsers(ctx, 1, "", ids); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SelectGroups(ctx, 1, "", []string{"grp_r"}); err != nil {
		t.Fatal(err)
	}
	rows, err := d.r.QueryContext(ctx, `SELECT id, lower(email), json_extract(custom_attributes, '$.job_title') FROM directory_users
		WHERE id IN (SELECT item_id FROM selections WHERE kind = 'user') OR id IN ('r_user_000', 'r_user_001', 'r_user_002')
		ORDER BY sort_key, id`)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var id, email, title string
		if err := rows.Scan(&id, &email, &title); err != nil {
			t.Fatal(err)
		}
		want = append(want, id+" "+email+" "+title)
	}
	rows.Close()
	fields := []string{"email", "job_title"}
	got, err := d.ResolveSelection(ctx, 1, "org_r", fields, map[string]string{"email": "email", "job_title": "custom_attributes.job_title"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	parity := map[int64]bool{}
	for _, p := range got {
		have = append(have, p.UserID+" "+p.Values["email"]+" "+p.Values["job_title"])
		parity[p.PK%2] = true
	}
	if len(want) < 37 || !slices.Equal(have, want) {
		t.Errorf("resolved:\n%s\nwant:\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
	if !parity[0] || !parity[1] {
		t.Errorf("the people do not fall into both halves: %v", parity)
	}
}
