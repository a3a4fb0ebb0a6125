package db

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// queryPlan returns the EXPLAIN QUERY PLAN details of q, joined by "; ".
func queryPlan(t *testing.T, d *DB, q string, args ...any) string {
	t.Helper()
	rows, err := d.r.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// The memberships phase asks for the next group once per group: it must seek
// an index in id order, not sort all of the directory's groups each time.
func TestNextMembershipGroupPlanAvoidsSort(t *testing.T) {
	d := openReplicaTest(t)
	p := queryPlan(t, d, `SELECT id FROM directory_groups WHERE directory_id = ? AND id > ? AND deleted_at IS NULL
		AND seen_gen >= ? ORDER BY id LIMIT 1`, "directory_1", "", 1)
	if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "directory_groups_dir_live_id") {
		t.Errorf("NextMembershipGroup plan = %s", p)
	}
	p = queryPlan(t, d, `SELECT count(*) FROM directory_groups
		WHERE directory_id = ? AND id < ? AND deleted_at IS NULL`, "directory_1", "g5")
	if !strings.Contains(p, "directory_groups_dir_live_id") {
		t.Errorf("GroupsBefore plan = %s", p)
	}
}

// NextMembershipGroup walks a directory's live groups of the current
// generation in id order, skipping tombstones, groups of older generations
// and other directories' groups.
func TestNextMembershipGroup_Walk(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	write(t, d, func(w *ReplicaWriter) error {
		if err := w.UpsertDirectory(Directory{ID: "directory_2", OrganizationID: "org_1", Name: "Other", State: "linked"}); err != nil {
			return err
		}
		for _, g := range []struct {
			id, dir string
			gen     int64
		}{{"g3", "directory_1", 2}, {"g1", "directory_1", 2}, {"g2", "directory_1", 1}, {"g4", "directory_1", 2},
			{"g5", "directory_1", 2}, {"g35", "directory_2", 2}} {
			if err := w.ListGroup(DirectoryGroup{ID: g.id, DirectoryID: g.dir, Name: g.id}, g.gen); err != nil {
				return err
			}
		}
		_, err := w.DeleteGroup(DirectoryGroup{ID: "g4", DirectoryID: "directory_1", Name: "g4"}, 2)
		return err
	})
	var walked []string
	write(t, d, func(w *ReplicaWriter) error {
		after := ""
		for {
			g, err := w.NextMembershipGroup("directory_1", after, 2)
			if err != nil || g == "" {
				return err
			}
			walked = append(walked, g)
			after = g
		}
	})
	if got, want := strings.Join(walked, ","), "g1,g3,g5"; got != want {
		t.Errorf("walked %s, want %s", got, want)
	}
	n, err := d.GroupsBefore(context.Background(), "directory_1", "g5")
	if err != nil || n != 3 { // g1, g2, g3 (g4 is a tombstone)
		t.Errorf("GroupsBefore(g5) = %d, %v; want 3", n, err)
	}
}

// StoreMembership (the backfill's write, without ListMembership's read)
// inserts a membership, and on a second listing moves its generation and
// sort key, exactly as ListMembership does.
func TestStoreMembership_InsertsAndUpdates(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	m := Membership{DirectoryID: "directory_1", GroupID: "g1", UserID: "u1", UserSortKey: "ada lovelace"}
	write(t, d, func(w *ReplicaWriter) error {
		if err := w.StoreMembership(m, 1); err != nil {
			return err
		}
		return w.StoreMembership(m, 1) // twice in one load: no error, one row
	})
	read := func() (n int, key string, gen int64) {
		t.Helper()
		err := d.r.QueryRow(`SELECT count(*), max(user_sort_key), max(seen_gen) FROM directory_memberships
			WHERE group_id = 'g1' AND user_id = 'u1'`).Scan(&n, &key, &gen)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if n, key, gen := read(); n != 1 || key != "ada lovelace" || gen != 1 {
		t.Errorf("after first load: %d rows, key %q, gen %d", n, key, gen)
	}
	m.UserSortKey = "ada byron"
	write(t, d, func(w *ReplicaWriter) error { return w.StoreMembership(m, 2) })
	if n, key, gen := read(); n != 1 || key != "ada byron" || gen != 2 {
		t.Errorf("after second load: %d rows, key %q, gen %d", n, key, gen)
	}
	// A reconcile still learns that the membership is not new.
	write(t, d, func(w *ReplicaWriter) error {
		added, err := w.ListMembership(m, 3)
		if err == nil && added {
			err = fmt.Errorf("ListMembership after StoreMembership reports a new membership")
		}
		return err
	})
}

// benchGroups opens a database with one directory of 2,000 live groups.
func benchGroups(b *testing.B) *DB {
	d := openReplicaTest(b)
	newDirectory(b, d)
	write(b, d, func(w *ReplicaWriter) error {
		for g := 0; g < 2000; g++ {
			if err := w.ListGroup(DirectoryGroup{ID: fmt.Sprintf("g%05d", g), DirectoryID: "directory_1",
				Name: fmt.Sprintf("Group %d", g)}, 1); err != nil {
				return err
			}
		}
		return nil
	})
	return d
}

// BenchmarkNextMembershipGroup: one step of the memberships phase's walk
// over 2,000 groups.
func BenchmarkNextMembershipGroup(b *testing.B) {
	d := benchGroups(b)
	ctx := context.Background()
	b.ResetTimer()
	write(b, d, func(w *ReplicaWriter) error {
		for i := 0; i < b.N; i++ {
			g, err := w.NextMembershipGroup("directory_1", fmt.Sprintf("g%05d", i%2000), 1)
			if err != nil {
				return err
			}
			if i%2000 < 1999 && g == "" {
				return fmt.Errorf("no group after g%05d", i%2000)
			}
		}
		return ctx.Err()
	})
}

// BenchmarkListMemberships: storing one listed membership, as a backfill
// does (StoreMembership) and as a reconcile does (ListMembership, which
// first reads whether it is new); pages of 100 per transaction.
func BenchmarkListMemberships(b *testing.B) {
	for _, mode := range []string{"backfill", "reconcile"} {
		b.Run(mode, func(b *testing.B) {
			d := benchGroups(b)
			b.ResetTimer()
			for i := 0; i < b.N; i += 100 {
				write(b, d, func(w *ReplicaWriter) error {
					for j := i; j < i+100 && j < b.N; j++ {
						m := Membership{DirectoryID: "directory_1", GroupID: fmt.Sprintf("g%05d", j/100%2000),
							UserID: fmt.Sprintf("u%07d", j), UserSortKey: "k"}
						if mode == "backfill" {
							if err := w.StoreMembership(m, 1); err != nil {
								return err
							}
						} else if _, err := w.ListMembership(m, 1); err != nil {
							return err
						}
					}
					return nil
				})
			}
		})
	}
}

// The selection summary and the resolution of the selected people find
// each person by id in directory_users_live, which also tells whether they
// are live, their organisation and (the rowid) their half of the
// resolution, without reading their row.
func TestSelectionPlansUseLiveUsersIndex(t *testing.T) {
	d := openReplicaTest(t)
	if p := queryPlan(t, d, selectionSummarySQL, 1, 1); !strings.Contains(p, "COVERING INDEX directory_users_live (id=? AND deleted_at=?)") {
		t.Errorf("summary plan = %s", p)
	}
	q, args, err := resolveQuery([]string{"email"}, map[string]string{"email": "email"})
	if err != nil {
		t.Fatal(err)
	}
	args = append(append([]any{1, 1}, args...), "org_1", 0)
	if p := queryPlan(t, d, q, args...); !strings.Contains(p, "SEARCH u USING INDEX directory_users_live (id=? AND deleted_at=? AND organization_id=?)") {
		t.Errorf("resolution plan = %s", p)
	}
}
