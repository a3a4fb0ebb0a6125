package db

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "dir", "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestOpen_PragmasAndMigrations(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	var mode string
	if err := d.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
	}
	// The writer reports its commits to the checkpointer instead.
	var ckpt int
	if err := d.w.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&ckpt); err != nil || ckpt != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d (%v), want 0", ckpt, err)
	}
	// Readers map the file; the writer does not (a first load's RSS).
	var rmap, wmap int64
	if err := d.r.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&rmap); err != nil || rmap != readerMmapSize {
		t.Fatalf("readers' mmap_size = %d (%v), want %d", rmap, err, int64(readerMmapSize))
	}
	if err := d.w.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&wmap); err != nil || wmap != 0 {
		t.Fatalf("writer's mmap_size = %d (%v), want 0", wmap, err)
	}
	var fk int
	if err := d.r.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (%v), want 1", fk, err)
	}
	if err := d.Ping(ctx); err != nil {
		t.Fatalf("Ping after Open: %v", err)
	}
	names, _ := migrationNames(migrationFS)
	var n int
	d.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
	if n != len(names) || n == 0 {
		t.Fatalf("%d migrations recorded, %d embedded", n, len(names))
	}
}

func TestMigrate_Idempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		d, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		var n int
		d.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
		names, _ := migrationNames(migrationFS)
		if n != len(names) {
			t.Fatalf("open #%d: %d migrations recorded, want %d", i+1, n, len(names))
		}
		d.Close()
	}
}

func TestMigrate_FailureLeavesDatabaseUnchanged(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	bad := fstest.MapFS{
		"migrations/9000_ok.sql":  {Data: []byte(`CREATE TABLE fine_table (a INTEGER);`)},
		"migrations/9001_bad.sql": {Data: []byte(`CREATE TABLE half_done (a INTEGER); INSERT INTO no_such_table VALUES (1);`)},
	}
	err := d.migrate(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "9001_bad.sql") || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("err = %v, want a clear error naming 9001_bad.sql", err)
	}
	var n int
	d.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'half_done'`).Scan(&n)
	if n != 0 {
		t.Fatal("the failed migration left its table behind")
	}
	d.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = '9001_bad.sql'`).Scan(&n)
	if n != 0 {
		t.Fatal("the failed migration was recorded")
	}
	d.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'fine_table'`).Scan(&n)
	if n != 1 {
		t.Fatal("the good migration before it was not kept")
	}
	if err := d.migrate(ctx, bad); err == nil {
		t.Fatal("re-running a failing migration succeeded")
	}
}

func TestSettingOrCreate_KeepsFirstValue(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	v1, err := d.SettingOrCreate(ctx, "k", func() (string, error) { return "first", nil })
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := d.SettingOrCreate(ctx, "k", func() (string, error) { return "second", nil })
	if v1 != "first" || v2 != "first" {
		t.Fatalf("got %q then %q, want first twice", v1, v2)
	}
}

func TestAudit_ScopedByOrganization(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	for _, e := range []AuditEntry{
		{Actor: "a@x", OrganizationID: "org_1", Action: "invite.created", Target: "t1"},
		{Actor: "b@y", OrganizationID: "org_2", Action: "invite.created", Target: "t2"},
		{Actor: "system", Action: "admin.ensured", Target: "t3"},
	} {
		if err := d.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := d.SearchAudit(ctx, AuditSearch{OrganizationID: "org_1"})
	if len(got) != 1 || got[0].Target != "t1" {
		t.Fatalf("org_1 sees %+v", got)
	}
	all, _ := d.SearchAudit(ctx, AuditSearch{AllOrgs: true, Action: "invite."})
	if len(all) != 2 {
		t.Fatalf("platform view of invite.*: %d entries, want 2", len(all))
	}
}

// openMigratedFrom creates a database with the migrations whose names sort
// before first, runs seed on it, then opens it with Open (which applies
// the rest).
func openMigratedFrom(t *testing.T, first string, seed ...string) *DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // closed before Open below, or on a failure on the way
	old := fstest.MapFS{}
	names, err := migrationNames(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n < first {
			body, err := fs.ReadFile(migrationFS, "migrations/"+n)
			if err != nil {
				t.Fatal(err)
			}
			old["migrations/"+n] = &fstest.MapFile{Data: body}
		}
	}
	if err := (&DB{w: w, Now: time.Now}).migrate(ctx, old); err != nil {
		t.Fatal(err)
	}
	for _, q := range seed {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	w.Close()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// A database made before 0011 keeps its memberships when the directory copy
// leaves them: each is still found through its group's directory.
func TestMigrate_0011KeepsMemberships(t *testing.T) {
	ctx := context.Background()
	d := openMigratedFrom(t, "0011",
		`INSERT INTO directory_groups (id, directory_id, name, sort_key, synced_at) VALUES ('g1', 'dir_a', 'Eng', 'eng', '')`,
		`INSERT INTO directory_users (id, directory_id, email, sort_key, synced_at) VALUES ('u1', 'dir_a', 'ada@a.example', 'ada', '')`,
		`INSERT INTO directory_memberships (group_id, user_id, directory_id, user_sort_key, seen_gen) VALUES ('g1', 'u1', 'dir_a', 'ada', 3)`,
	)
	s, err := d.Snapshot(ctx, "dir_a")
	if err != nil {
		t.Fatal(err)
	}
	want := Membership{DirectoryID: "dir_a", GroupID: "g1", UserID: "u1", UserSortKey: "ada"}
	if len(s.Memberships) != 1 || s.Memberships[0] != want {
		t.Fatalf("memberships after 0011 = %+v, want [%+v]", s.Memberships, want)
	}
	counts, err := d.ReplicaCounts(ctx)
	if err != nil || counts["dir_a"].Memberships != 1 {
		t.Fatalf("counts = %+v (%v), want 1 membership in dir_a", counts, err)
	}
	var cols int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('directory_memberships') WHERE name = 'directory_id'`).Scan(&cols); err != nil || cols != 0 {
		t.Fatalf("directory_id column still there (%d, %v)", cols, err)
	}
}

// Migration 0013 rebuilds the search index over directory_users: the live
// people of indexed directories are found as before, a tombstone and the
// people of a directory not yet indexed are not, and SQLite's integrity
// check (FTS4's own included) passes.
func TestMigrate_0013KeepsTheSearch(t *testing.T) {
	ctx := context.Background()
	d := openMigratedFrom(t, "0013",
		`INSERT INTO sync_state (directory_id, search_indexed, updated_at) VALUES ('dir_a', 1, ''), ('dir_b', 0, '')`,
		`INSERT INTO directory_users (id, directory_id, first_name, last_name, email, job_title, sort_key, synced_at)
			VALUES ('u1', 'dir_a', 'Ada', 'Lovelace', 'ada@a.example', 'Analyst', 'lovelace', ''),
			       ('u2', 'dir_a', 'Zoe', 'Gone', 'zoe@a.example', 'Analyst', 'gone', ''),
			       ('u3', 'dir_b', 'Bob', 'Later', 'bob@b.example', 'Analyst', 'later', '')`,
		`UPDATE directory_users SET deleted_at = '2026-01-01T00:00:00.000Z' WHERE id = 'u2'`,
	)
	for q, want := range map[string]int64{"ada": 1, "lovelace analyst": 1, "analyst": 1, "zoe": 0, "bob": 0} {
		if n, err := d.SearchMatches(ctx, q); err != nil || n != want {
			t.Errorf("search %q after 0013: %d matches (%v), want %d", q, n, err, want)
		}
	}
	var res string
	if err := d.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check after 0013 = %q (%v), want ok", res, err)
	}
}

// TestTx_RollsBackOnErrorPanicAndCancel: a transaction commits only when
// its function succeeds and its context is not done. An error, a panic or
// a context cancelled while statements that ignore it run leave nothing
// written, and the writer connection is free for the next transaction.
func TestTx_RollsBackOnErrorPanicAndCancel(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	// BulkTx keeps its temporary data in memory (temp_store 2) and leaves
	// the writer as it found it (0), whatever the outcome; Tx never
	// changes it.
	for name, c := range map[string]struct {
		run       func(context.Context, func(Tx) error) error
		tempStore int
	}{"Tx": {d.Tx, 0}, "BulkTx": {d.BulkTx, 2}} {
		t.Run(name, func(t *testing.T) {
			tempStore := func(q interface {
				QueryRowContext(context.Context, string, ...any) *sql.Row
			}) int {
				t.Helper()
				var n int
				if err := q.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			put := func(ctx context.Context, k string) func(tx Tx) error {
				return func(tx Tx) error {
					if got := tempStore(tx); got != c.tempStore {
						t.Errorf("temp_store in the transaction = %d, want %d", got, c.tempStore)
					}
					_, err := tx.ExecContext(context.WithoutCancel(ctx), `INSERT INTO settings(key, value) VALUES (?, 'v')`, name+k)
					return err
				}
			}
			has := func(k string) bool {
				t.Helper()
				var n int
				if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = ?`, name+k).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n == 1
			}
			after := func(what string) {
				t.Helper()
				if got := tempStore(d.w); got != 0 {
					t.Errorf("temp_store after the %s transaction = %d, want 0", what, got)
				}
			}
			boom := errors.New("boom")
			if err := c.run(ctx, func(tx Tx) error { _ = put(ctx, "failed")(tx); return boom }); !errors.Is(err, boom) {
				t.Errorf("Tx = %v, want boom", err)
			}
			after("failed")
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic did not reach the caller")
					}
				}()
				_ = c.run(ctx, func(tx Tx) error { _ = put(ctx, "panicked")(tx); panic("boom") })
			}()
			after("panicked")
			cctx, cancel := context.WithCancel(ctx)
			err := c.run(cctx, func(tx Tx) error {
				cancel()
				return put(cctx, "cancelled")(tx)
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Tx with a cancelled context = %v, want context.Canceled", err)
			}
			after("cancelled")
			for _, k := range []string{"failed", "panicked", "cancelled"} {
				if has(k) {
					t.Errorf("the %s transaction was committed", k)
				}
			}
			if err := c.run(ctx, put(ctx, "committed")); err != nil || !has("committed") {
				t.Fatalf("a transaction after them: %v, committed %v", err, has("committed"))
			}
			after("committed")
		})
	}
}
