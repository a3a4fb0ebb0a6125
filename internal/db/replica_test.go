package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func openReplicaTest(t testing.TB) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "replica.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func testUser(id, first, last string, updated time.Time) DirectoryUser {
	return DirectoryUser{ID: id, DirectoryID: "directory_1", OrganizationID: "org_1", Email: first + "@example.com",
		FirstName: first, LastName: last, State: "active", Role: "member", Roles: []string{"member"},
		CustomAttributes: json.RawMessage(`{"department":"Engineering"}`), Department: "Engineering",
		CreatedAt: t0, UpdatedAt: updated}
}

// write runs fn in one transaction with a replica writer.
func write(t testing.TB, d *DB, fn func(w *ReplicaWriter) error) {
	t.Helper()
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx Tx) error { return fn(d.Replica(ctx, tx)) }); err != nil {
		t.Fatal(err)
	}
}

func newDirectory(t testing.TB, d *DB) {
	write(t, d, func(w *ReplicaWriter) error {
		if err := w.UpsertDirectory(Directory{ID: "directory_1", OrganizationID: "org_1", Name: "Acme", State: "linked"}); err != nil {
			return err
		}
		return w.PutSyncState(SyncState{DirectoryID: "directory_1", OrganizationID: "org_1", Phase: PhaseUsers, Mode: ModeBackfill, Generation: 1})
	})
}

func TestReplicaWriter_ApplyUserEventGuards(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	write(t, d, func(w *ReplicaWriter) error {
		return w.ListUser(testUser("u1", "Ada", "Lovelace", t0.Add(time.Hour)), 1)
	})

	tests := []struct {
		name string
		op   func(w *ReplicaWriter) (string, error)
		want string
	}{
		{"older update is stale", func(w *ReplicaWriter) (string, error) {
			return w.ApplyUserEvent(testUser("u1", "Old", "Name", t0), 1)
		}, OutcomeStale},
		{"same time applies", func(w *ReplicaWriter) (string, error) {
			return w.ApplyUserEvent(testUser("u1", "Ada", "King", t0.Add(time.Hour)), 1)
		}, OutcomeApplied},
		{"newer update applies", func(w *ReplicaWriter) (string, error) {
			return w.ApplyUserEvent(testUser("u1", "Ada", "Byron", t0.Add(2*time.Hour)), 1)
		}, OutcomeApplied},
		{"delete applies", func(w *ReplicaWriter) (string, error) {
			return w.DeleteUser(testUser("u1", "Ada", "Byron", t0.Add(2*time.Hour)), 1)
		}, OutcomeApplied},
		{"delete twice is stale", func(w *ReplicaWriter) (string, error) {
			return w.DeleteUser(testUser("u1", "Ada", "Byron", t0.Add(2*time.Hour)), 1)
		}, OutcomeStale},
		{"update after delete is stale", func(w *ReplicaWriter) (string, error) {
			return w.ApplyUserEvent(testUser("u1", "Ada", "Zombie", t0.Add(3*time.Hour)), 1)
		}, OutcomeStale},
		{"delete of an unknown user leaves a tombstone", func(w *ReplicaWriter) (string, error) {
			return w.DeleteUser(testUser("u2", "Bob", "Late", t0), 1)
		}, OutcomeApplied},
		{"created after that delete is stale", func(w *ReplicaWriter) (string, error) {
			return w.ApplyUserEvent(testUser("u2", "Bob", "Late", t0), 1)
		}, OutcomeStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			write(t, d, func(w *ReplicaWriter) error {
				var err error
				got, err = tt.op(w)
				return err
			})
			if got != tt.want {
				t.Errorf("outcome = %q, want %q", got, tt.want)
			}
		})
	}
	snap, err := d.Snapshot(context.Background(), "directory_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != 0 {
		t.Errorf("live users = %d, want 0 (both deleted)", len(snap.Users))
	}
}

func TestReplicaWriter_SweepAndMemberKeys(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	write(t, d, func(w *ReplicaWriter) error {
		for _, u := range []DirectoryUser{testUser("u1", "Ada", "Lovelace", t0), testUser("u2", "Alan", "Turing", t0)} {
			if err := w.ListUser(u, 1); err != nil {
				return err
			}
		}
		if err := w.ListGroup(DirectoryGroup{ID: "g1", DirectoryID: "directory_1", Name: "Eng"}, 1); err != nil {
			return err
		}
		for _, u := range []string{"u1", "u2"} {
			if _, err := w.ListMembership(Membership{DirectoryID: "directory_1", GroupID: "g1", UserID: u}, 1); err != nil {
				return err
			}
		}
		return nil
	})
	// Generation 2 sees only u1 and its membership: u2 is gone at the source.
	var removed []Change
	write(t, d, func(w *ReplicaWriter) error {
		if err := w.ListUser(testUser("u1", "Ada", "Byron", t0.Add(time.Minute)), 2); err != nil {
			return err
		}
		if err := w.ListGroup(DirectoryGroup{ID: "g1", DirectoryID: "directory_1", Name: "Eng"}, 2); err != nil {
			return err
		}
		if _, err := w.ListMembership(Membership{DirectoryID: "directory_1", GroupID: "g1", UserID: "u1",
			UserSortKey: UserSortKey("Ada", "Byron", "", "Ada@example.com")}, 2); err != nil {
			return err
		}
		var err error
		removed, err = w.Sweep("directory_1", 2)
		return err
	})
	var ids []string
	for _, c := range removed {
		ids = append(ids, c.Kind+":"+c.ID)
	}
	if want := []string{"user:u2", "membership:g1/u2"}; !slices.Equal(ids, want) {
		t.Errorf("removed = %v, want %v", ids, want)
	}
	snap, err := d.Snapshot(context.Background(), "directory_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != 1 || len(snap.Memberships) != 1 {
		t.Fatalf("snapshot = %d users, %d memberships; want 1, 1", len(snap.Users), len(snap.Memberships))
	}
	if got, want := snap.Memberships[0].UserSortKey, UserSortKey("Ada", "Byron", "", "Ada@example.com"); got != want {
		t.Errorf("member sort key = %q, want %q", got, want)
	}
	// A rename through an event moves the member's sort key too.
	write(t, d, func(w *ReplicaWriter) error {
		_, err := w.ApplyUserEvent(testUser("u1", "Ada", "Countess", t0.Add(time.Hour)), 2)
		return err
	})
	snap, _ = d.Snapshot(context.Background(), "directory_1")
	if got, want := snap.Memberships[0].UserSortKey, UserSortKey("Ada", "Countess", "", "Ada@example.com"); got != want {
		t.Errorf("member sort key after rename = %q, want %q", got, want)
	}
}

func TestSearchReplicaUsers(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	people := []DirectoryUser{
		testUser("u1", "Zoë", "Ångström", t0),
		testUser("u2", "Ἀθηνᾶ", "Παλλάς", t0),
		testUser("u3", "Юлия", "Смирнова", t0),
		testUser("u4", "Bob", "Builder", t0),
		testUser("u6", "太郎", "山田", t0),
	}
	people[3].JobTitle = "Site engineer"
	write(t, d, func(w *ReplicaWriter) error {
		for _, u := range people {
			if err := w.ListUser(u, 1); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := context.Background()
	if got, _ := d.SearchReplicaUsers(ctx, "directory_1", "zoe", 10); len(got) != 0 {
		t.Fatalf("search before the index is built found %d, want 0", len(got))
	}
	write(t, d, func(w *ReplicaWriter) error { return w.BuildSearchIndex("directory_1") })
	// Kept live from here on: a new user and a rename.
	write(t, d, func(w *ReplicaWriter) error {
		if _, err := w.ApplyUserEvent(testUser("u5", "Ada", "Lovelace", t0), 1); err != nil {
			return err
		}
		_, err := w.ApplyUserEvent(testUser("u4", "Robert", "Builder", t0.Add(time.Hour)), 1)
		return err
	})
	tests := []struct {
		q    string
		want []string
	}{
		{"zoe", []string{"u1"}},
		{"ANGS", []string{"u1"}},
		{"ἀθη", []string{"u2"}},
		{"山田", []string{"u6"}},
		{"Смир", []string{"u3"}},
		{"rob build", []string{"u4"}},
		{"bob", nil},
		{"site", nil}, // u4's job title went with the event, which had none
		{"lovelace", []string{"u5"}},
		{"example", []string{"u1", "u2", "u3", "u4", "u5", "u6"}},
		{`"'*`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, err := d.SearchReplicaUsers(ctx, "directory_1", tt.q, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, u := range got {
				ids = append(ids, u.ID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("search %q = %v, want %v", tt.q, ids, tt.want)
			}
		})
	}
	// A deleted user leaves the index.
	write(t, d, func(w *ReplicaWriter) error {
		_, err := w.DeleteUser(testUser("u5", "Ada", "Lovelace", t0), 1)
		return err
	})
	if got, _ := d.SearchReplicaUsers(ctx, "directory_1", "lovelace", 10); len(got) != 0 {
		t.Errorf("deleted user still found")
	}
	// The index reads its words from the users table (migration 0013): after
	// each kind of change SQLite's integrity check, FTS4's own included,
	// still finds the index and the people it holds in agreement.
	integrity := func(after string) {
		t.Helper()
		var res string
		if err := d.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
			t.Fatalf("integrity_check after %s = %q (%v), want ok", after, res, err)
		}
	}
	integrity("a rename, a new user and a deletion")
	// A listing brings the deleted user back; removing a row takes it out.
	write(t, d, func(w *ReplicaWriter) error {
		return w.ListUser(testUser("u5", "Ada", "Lovelace", t0.Add(time.Hour)), 2)
	})
	if got, _ := d.SearchReplicaUsers(ctx, "directory_1", "lovelace", 10); len(got) != 1 {
		t.Errorf("listed again: %d found, want 1", len(got))
	}
	integrity("a listing of a deleted user")
	write(t, d, func(w *ReplicaWriter) error {
		_, err := w.Tx().ExecContext(ctx, `DELETE FROM directory_users WHERE id = 'u1'`)
		return err
	})
	if got, _ := d.SearchReplicaUsers(ctx, "directory_1", "zoe", 10); len(got) != 0 {
		t.Errorf("removed row still found")
	}
	integrity("a removed row")
}

func TestSyncState_RoundTrip(t *testing.T) {
	d := openReplicaTest(t)
	want := SyncState{DirectoryID: "directory_1", OrganizationID: "org_1", Phase: PhaseMemberships, Mode: ModeReconcile,
		Generation: 3, PageCursor: "directory_user_9", GroupCursor: "directory_group_2", LoadStartedAt: t0,
		UsersDone: 10, UsersTotal: 20, GroupsDone: 2, GroupsTotal: 3, MembershipsDone: 7, Changes: 4,
		EventsCursor: "event_5", EventsSince: t0.Add(-time.Minute), LastEventAt: t0, LastPollAt: t0, LastSuccessAt: t0,
		CaughtUpAt: t0, LastError: "WorkOS rejected the API key", LastErrorKind: "auth", LastErrorAt: t0,
		EventsApplied: 1, EventsDuplicate: 2, EventsStale: 3, EventsFailed: 4, LastReconcileAt: t0}
	write(t, d, func(w *ReplicaWriter) error { return w.PutSyncState(want) })
	got, err := d.SyncState(context.Background(), "directory_1")
	if err != nil {
		t.Fatal(err)
	}
	got.UpdatedAt = time.Time{}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if _, err := d.SyncState(context.Background(), "nope"); err != ErrNotFound {
		t.Errorf("missing state: err = %v, want ErrNotFound", err)
	}
}

// BenchmarkListUsersPage measures the backfill write path: one page of 100
// listed users stored in one transaction.
func BenchmarkListUsersPage(b *testing.B) {
	d := openReplicaTest(b)
	newDirectory(b, d)
	custom := json.RawMessage(`{"department":"Engineering","job_title":"Engineer","manager_email":"boss@example.com","cost_center":"CC-1","location":"Berlin","employee_id":"E123","division":"R&D","team":"Platform"}`)
	page := make([]DirectoryUser, 100)
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range page {
			n++
			u := testUser(fmt.Sprintf("directory_user_%08d", n), fmt.Sprintf("First%d", n), fmt.Sprintf("Last%d", n%977), t0)
			u.CustomAttributes = custom
			page[i] = u
		}
		write(b, d, func(w *ReplicaWriter) error {
			for _, u := range page {
				if err := w.ListUser(u, 1); err != nil {
					return err
				}
			}
			return nil
		})
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "users/s")
}

// An event that keeps the name and email (lightUserSQL) still stores a new
// job title, which the search follows, and new attributes alone.
func TestReplicaWriter_ApplyUserEventSameName(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	ctx := context.Background()
	u := testUser("u1", "Ada", "Lovelace", t0)
	u.JobTitle = "Pilot"
	write(t, d, func(w *ReplicaWriter) error {
		if err := w.ListUser(u, 1); err != nil {
			return err
		}
		return w.BuildSearchIndex("directory_1")
	})
	apply := func(u DirectoryUser) DirectoryUser {
		t.Helper()
		write(t, d, func(w *ReplicaWriter) error {
			got, err := w.ApplyUserEvent(u, 1)
			if err == nil && got != OutcomeApplied {
				err = fmt.Errorf("outcome %q, want applied", got)
			}
			return err
		})
		stored, err := d.LiveUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	found := func(q string) bool {
		t.Helper()
		got, err := d.SearchReplicaUsers(ctx, "directory_1", q, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(got) == 1
	}

	u.JobTitle, u.LastEventID, u.UpdatedAt = "Architect", "event_1", t0.Add(time.Hour)
	got := apply(u)
	if got.JobTitle != "Architect" || got.LastEventID != "event_1" {
		t.Errorf("after a new title: title %q, last event %q", got.JobTitle, got.LastEventID)
	}
	if !found("architect") || found("pilot") {
		t.Errorf("search did not follow the new title")
	}

	u.CustomAttributes, u.ManagerEmail, u.LastEventID = json.RawMessage(`{"department":"Research"}`), "boss@example.com", "event_2"
	got = apply(u)
	if string(got.CustomAttributes) != `{"department":"Research"}` || got.ManagerEmail != "boss@example.com" ||
		got.LastEventID != "event_2" || got.JobTitle != "Architect" || got.FirstName != "Ada" {
		t.Errorf("after new attributes only: %+v", got)
	}

	// The light update leaves the organisation out: an event that moves
	// the user (same name) goes through the full upsert.
	u.OrganizationID, u.LastEventID, u.UpdatedAt = "org_2", "event_3", t0.Add(2*time.Hour)
	if got = apply(u); got.OrganizationID != "org_2" || got.LastEventID != "event_3" {
		t.Errorf("after a move: organisation %q, last event %q", got.OrganizationID, got.LastEventID)
	}
}

// A group's page finds its members by the sort key their membership copies;
// a late user_added event with an older copy of the user (its old name)
// must not leave the member out of the page.
func TestAddMembership_LateEventKeepsMemberOnGroupPage(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	ctx := context.Background()
	write(t, d, func(w *ReplicaWriter) error {
		if err := w.ListGroup(DirectoryGroup{ID: "g1", DirectoryID: "directory_1", Name: "Eng"}, 1); err != nil {
			return err
		}
		return w.ListUser(testUser("u1", "Ada", "Byron", t0.Add(time.Hour)), 1) // renamed at 11:00
	})
	old := testUser("u1", "Ada", "Lovelace", t0) // the event's copy, from 10:00
	write(t, d, func(w *ReplicaWriter) error {
		if got, err := w.ApplyUserEvent(old, 1); err != nil || got != OutcomeStale {
			return fmt.Errorf("older copy: %q, %v; want stale", got, err)
		}
		got, err := w.AddMembership(Membership{DirectoryID: "directory_1", GroupID: "g1", UserID: "u1",
			UserSortKey: UserSortKey(old.FirstName, old.LastName, old.Name, old.Email)}, 1)
		if err == nil && got != OutcomeApplied {
			err = fmt.Errorf("membership outcome %q, want applied", got)
		}
		return err
	})
	page, err := d.BrowseUsers(ctx, UserFilter{DirectoryID: "directory_1", GroupID: "g1"}, PageRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rows) != 1 || page.Rows[0].ID != "u1" || page.Rows[0].LastName != "Byron" {
		t.Fatalf("group page = %+v, want u1 as Ada Byron", page.Rows)
	}
}

// A load's indexes are left out only while their table is empty, and come
// back with the migrations' definitions: from EnsureIndexes at the end of
// the load's phase, or from Open if a load stopped before that.
func TestLoadIndexesDeferredOnlyWhileEmpty(t *testing.T) {
	d := openReplicaTest(t)
	ctx := context.Background()
	newDirectory(t, d)
	indexSQL := func(name string) string {
		t.Helper()
		var q sql.NullString
		err := d.r.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&q)
		if errors.Is(err, sql.ErrNoRows) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		flat := strings.Join(strings.Fields(strings.Replace(q.String, "IF NOT EXISTS ", "", 1)), " ")
		return strings.NewReplacer("( ", "(", " )", ")").Replace(flat)
	}
	storedKey := UserSortKey("Ada", "Lovelace", "", "Ada@example.com")
	for _, tc := range []struct {
		l    LoadIndexes
		fill func(w *ReplicaWriter) error
	}{
		{PeopleIndexes, func(w *ReplicaWriter) error { return w.ListNewUser(testUser("u1", "Ada", "Lovelace", t0), 1) }},
		{MembershipIndexes, func(w *ReplicaWriter) error {
			// Without the pair index, the same member listed again under
			// another sort key (renamed between two listings) makes a second
			// row, which building the index removes, keeping the stored
			// user's key (u1 is stored by the people case above).
			for _, key := range []string{"lovelace", "lovelace", storedKey, "lovelace2"} {
				if err := w.StoreMembership(Membership{GroupID: "g1", UserID: "u1", UserSortKey: key}, 1); err != nil {
					return err
				}
			}
			// A live directory's event and another directory's reconcile
			// may add memberships meanwhile: they must not fail.
			if _, err := w.AddMembership(Membership{GroupID: "g2", UserID: "u1"}, 1); err != nil {
				return err
			}
			_, err := w.ListMembership(Membership{GroupID: "g3", UserID: "u1", UserSortKey: storedKey}, 1)
			return err
		}},
	} {
		t.Run(tc.l.table, func(t *testing.T) {
			migrated := map[string]string{}
			for _, ix := range tc.l.indexes {
				if migrated[ix.name] = indexSQL(ix.name); migrated[ix.name] == "" {
					t.Fatalf("no index %s after the migrations", ix.name)
				}
			}
			var dropped bool
			write(t, d, func(w *ReplicaWriter) (err error) {
				dropped, err = w.DeferIndexes(tc.l)
				return err
			})
			for _, ix := range tc.l.indexes {
				if !dropped || indexSQL(ix.name) != "" {
					t.Fatalf("empty table: dropped %v, %s still there", dropped, ix.name)
				}
			}
			write(t, d, func(w *ReplicaWriter) error {
				if err := tc.fill(w); err != nil {
					return err
				}
				return w.EnsureIndexes(tc.l)
			})
			for _, ix := range tc.l.indexes {
				if got := indexSQL(ix.name); got != migrated[ix.name] {
					t.Fatalf("rebuilt index:\n%s\nwant the migration's:\n%s", got, migrated[ix.name])
				}
			}
			if tc.l.table == "directory_memberships" {
				var pairs string
				if err := d.r.QueryRowContext(ctx, `SELECT group_concat(group_id || '=' || (user_sort_key = ?), ' ')
					FROM (SELECT * FROM directory_memberships WHERE user_id = 'u1' ORDER BY group_id)`, storedKey).Scan(&pairs); err != nil ||
					pairs != "g1=1 g2=1 g3=1" {
					t.Fatalf("memberships of u1 after the index was built: %q (%v), want one per group, with the stored key", pairs, err)
				}
				// With the index, storing the pair again updates its row.
				write(t, d, func(w *ReplicaWriter) error {
					return w.StoreMembership(Membership{GroupID: "g1", UserID: "u1", UserSortKey: "byron"}, 2)
				})
				var keys string
				if err := d.r.QueryRowContext(ctx, `SELECT group_concat(user_sort_key) FROM directory_memberships
					WHERE group_id = 'g1' AND user_id = 'u1'`).Scan(&keys); err != nil || keys != "byron" {
					t.Fatalf("the pair's rows have sort keys %q (%v), want one: byron", keys, err)
				}
			}
			write(t, d, func(w *ReplicaWriter) (err error) {
				dropped, err = w.DeferIndexes(tc.l)
				return err
			})
			if dropped || indexSQL(tc.l.indexes[0].name) == "" {
				t.Fatalf("filled table: dropped %v; want the indexes kept", dropped)
			}
		})
	}

	// A load that stopped with the indexes out: Open builds them.
	path := filepath.Join(t.TempDir(), "stopped.db")
	d2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"directory_users_list", "directory_memberships_user"} {
		if _, err := d2.w.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			t.Fatal(err)
		}
	}
	d2.Close()
	d2, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	var n int
	if err := d2.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN
		('directory_users_list', 'directory_memberships_user')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("after reopening: %d of the 2 indexes (%v)", n, err)
	}
}

// A user_added event for a deleted user or group is stale and stores nothing.
func TestAddMembership_TombstoneIsStale(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	write(t, d, func(w *ReplicaWriter) error {
		for _, g := range []string{"g1", "g2"} {
			if err := w.ListGroup(DirectoryGroup{ID: g, DirectoryID: "directory_1", Name: g}, 1); err != nil {
				return err
			}
		}
		for _, u := range []string{"u1", "u2"} {
			if err := w.ListUser(testUser(u, "Ada", u, t0), 1); err != nil {
				return err
			}
		}
		if _, err := w.DeleteUser(testUser("u2", "Ada", "u2", t0), 1); err != nil {
			return err
		}
		_, err := w.DeleteGroup(DirectoryGroup{ID: "g2", DirectoryID: "directory_1", Name: "g2"}, 1)
		return err
	})
	for _, m := range []Membership{{GroupID: "g1", UserID: "u2"}, {GroupID: "g2", UserID: "u1"}} {
		var got string
		write(t, d, func(w *ReplicaWriter) (err error) {
			got, err = w.AddMembership(m, 1)
			return err
		})
		if got != OutcomeStale {
			t.Errorf("%s/%s: outcome %q, want stale", m.GroupID, m.UserID, got)
		}
	}
	snap, err := d.Snapshot(context.Background(), "directory_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Memberships) != 0 {
		t.Errorf("memberships = %+v, want none", snap.Memberships)
	}
}

// TestRefreshUserAndGroup_OnlyNewerCopies: the copies a membership event
// carries are written when newer than the stored rows, inserted when the
// row is missing, and leave an equal or older version alone.
func TestRefreshUserAndGroup_OnlyNewerCopies(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	ctx := context.Background()
	g := DirectoryGroup{ID: "g1", DirectoryID: "directory_1", OrganizationID: "org_1", Name: "Team", UpdatedAt: t0}
	write(t, d, func(w *ReplicaWriter) error {
		u := testUser("u1", "Ada", "King", t0)
		u.LastEventID = "event_user"
		if _, err := w.ApplyUserEvent(u, 1); err != nil {
			return err
		}
		g.LastEventID = "event_group"
		_, err := w.ApplyGroupEvent(g, 1)
		return err
	})
	lastEvents := func() (string, string) {
		t.Helper()
		var u, gr string
		if err := d.w.QueryRowContext(ctx, `SELECT (SELECT last_event_id FROM directory_users WHERE id = 'u1'),
			(SELECT last_event_id FROM directory_groups WHERE id = 'g1')`).Scan(&u, &gr); err != nil {
			t.Fatal(err)
		}
		return u, gr
	}
	refresh := func(updated time.Time, event string) {
		t.Helper()
		write(t, d, func(w *ReplicaWriter) error {
			u := testUser("u1", "Ada", "King", updated)
			u.LastEventID = event
			if err := w.RefreshUser(u, 1); err != nil {
				return err
			}
			g := g
			g.UpdatedAt, g.LastEventID = updated, event
			return w.RefreshGroup(g, 1)
		})
	}
	refresh(t0, "event_equal")
	refresh(t0.Add(-time.Hour), "event_older")
	if u, gr := lastEvents(); u != "event_user" || gr != "event_group" {
		t.Errorf("equal or older copies were written: user %s, group %s", u, gr)
	}
	refresh(t0.Add(time.Hour), "event_newer")
	if u, gr := lastEvents(); u != "event_newer" || gr != "event_newer" {
		t.Errorf("newer copies were not written: user %s, group %s", u, gr)
	}
	write(t, d, func(w *ReplicaWriter) error { return w.RefreshUser(testUser("u2", "Bob", "New", t0), 1) })
	if _, err := d.LiveUser(ctx, "u2"); err != nil {
		t.Errorf("a user first seen in a membership event was not stored: %v", err)
	}
}

// Without a sync state nothing would keep a directory's documents in step
// with its people, so the index is not built for it; built a second time
// for an indexed directory, it changes nothing (the triggers keep it).
func TestBuildSearchIndex_NeedsASyncStateAndRunsOnce(t *testing.T) {
	d := openReplicaTest(t)
	ctx := context.Background()
	err := d.Tx(ctx, func(tx Tx) error { return d.Replica(ctx, tx).BuildSearchIndex("directory_unknown") })
	if err == nil || !strings.Contains(err.Error(), "sync state") {
		t.Fatalf("BuildSearchIndex without a sync state: %v, want an error about it", err)
	}
	newDirectory(t, d)
	write(t, d, func(w *ReplicaWriter) error { return w.ListUser(testUser("u1", "Ada", "Lovelace", t0), 1) })
	segments := func() (n int) {
		t.Helper()
		if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM directory_user_search_segdir`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	write(t, d, func(w *ReplicaWriter) error { return w.BuildSearchIndex("directory_1") })
	built := segments()
	write(t, d, func(w *ReplicaWriter) error { return w.BuildSearchIndex("directory_1") })
	if n := segments(); built == 0 || n != built {
		t.Fatalf("index segments: %d after the first build, %d after the second; want some, then the same", built, n)
	}
	if n, err := d.SearchMatches(ctx, "lovelace"); err != nil || n != 1 {
		t.Fatalf("search after two builds: %d matches (%v), want 1", n, err)
	}
	// A rename then takes the one document out and puts the new one in.
	write(t, d, func(w *ReplicaWriter) error {
		_, err := w.ApplyUserEvent(testUser("u1", "Ada", "Byron", t0.Add(time.Hour)), 1)
		return err
	})
	for q, want := range map[string]int64{"lovelace": 0, "byron": 1} {
		if n, err := d.SearchMatches(ctx, q); err != nil || n != want {
			t.Errorf("search %q after the rename: %d matches (%v), want %d", q, n, err, want)
		}
	}
	var res string
	if err := d.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check after two builds and a rename = %q (%v), want ok", res, err)
	}
}
