package db

import (
	"context"
	"fmt"
	"testing"
)

// benchDB holds 100,000 people in one directory (names skewed like a real
// company: 200 first names × 500 last names), a 10,000-member group and the
// search index, inserted with plain SQL.
func benchDB(b *testing.B) *DB {
	b.Helper()
	d := btOpen(b)
	ctx := context.Background()
	err := d.Tx(ctx, func(tx Tx) error {
		stmts := []string{
			`INSERT INTO directories (id, organization_id, name, state, synced_at) VALUES ('dir_big', 'org', 'Big', 'linked', '')`,
			`INSERT INTO sync_state (directory_id, phase, search_indexed, updated_at) VALUES ('dir_big', 'live', 0, '')`,
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
			 INSERT INTO directory_users (id, directory_id, organization_id, email, first_name, last_name, job_title, department, state, sort_key, synced_at)
			 SELECT printf('directory_user_%06d', i), 'dir_big', 'org', printf('p%06d@big.example', i),
			        printf('first%03d', (i * 7919) % 200), printf('last%03d', (i * 104729) % 500),
			        printf('title%02d', i % 40), printf('dept%02d', i % 25), CASE WHEN i % 20 = 0 THEN 'inactive' ELSE 'active' END,
			        printf('last%03d', (i * 104729) % 500) || char(31) || printf('first%03d', (i * 7919) % 200) || char(31) || printf('p%06d@big.example', i), ''
			 FROM n`,
			`INSERT INTO directory_groups (id, directory_id, name, sort_key, synced_at) VALUES ('grp_10k', 'dir_big', 'Ten thousand', 'ten thousand', '')`,
			`INSERT INTO directory_memberships (group_id, user_id, user_sort_key)
			 SELECT 'grp_10k', id, sort_key FROM directory_users WHERE pk % 10 = 0`,
			`INSERT INTO directory_user_search (docid, first_name, last_name, name, email, job_title, department)
			 SELECT pk, first_name, last_name, name, email, job_title, department FROM directory_users`,
			`UPDATE sync_state SET search_indexed = 1`,
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%w: %s", err, q)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// cursors samples positions spread over a list, for random page starts.
func cursors(b *testing.B, d *DB, f UserFilter, n int) []Cursor {
	b.Helper()
	var out []Cursor
	p := PageRequest{Limit: 1000}
	for len(out) < n {
		page, err := d.BrowseUsers(context.Background(), f, p)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(page.Rows); i += 97 {
			out = append(out, page.Rows[i].Cursor())
		}
		if !page.HasNext {
			break
		}
		c := page.Rows[len(page.Rows)-1].Cursor()
		p.After = &c
	}
	return out
}

func BenchmarkUsersPage(b *testing.B) {
	d := benchDB(b)
	ctx := context.Background()
	f := UserFilter{DirectoryID: "dir_big"}
	cs := cursors(b, d, f, 200)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := cs[i%len(cs)]
		page, err := d.BrowseUsers(ctx, f, PageRequest{Limit: 100, After: &c})
		if err != nil || len(page.Rows) == 0 {
			b.Fatal(err, len(page.Rows))
		}
	}
}

func BenchmarkGroupMembersPage(b *testing.B) {
	d := benchDB(b)
	ctx := context.Background()
	f := UserFilter{DirectoryID: "dir_big", GroupID: "grp_10k"}
	cs := cursors(b, d, f, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := cs[i%len(cs)]
		page, err := d.BrowseUsers(ctx, f, PageRequest{Limit: 100, After: &c})
		if err != nil || len(page.Rows) == 0 {
			b.Fatal(err, len(page.Rows))
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	d := benchDB(b)
	ctx := context.Background()
	// Terms of varying selectivity: a last name (~200 people), a first
	// name (~500), a department (~4,000), an email (1).
	terms := []string{"last123", "first042", "dept07", "p031337", "last4", "title1 dept1"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := UserFilter{DirectoryID: "dir_big", Search: terms[i%len(terms)], FullText: true}
		if _, err := d.BrowseUsers(ctx, f, PageRequest{Limit: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
