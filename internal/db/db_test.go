package db

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
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
