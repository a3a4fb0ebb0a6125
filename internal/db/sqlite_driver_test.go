package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// rawPlannerStability reads (set -1) or sets a pooled connection's QPSG.
func rawPlannerStability(ctx context.Context, c *sql.Conn, set int) (int, error) {
	on := -1
	err := c.Raw(func(dc any) error {
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("driver connection is %T", dc)
		}
		var err error
		on, err = plannerStability(sc, set)
		return err
	})
	return on, err
}

// Every connection of both pools has the planner stability guarantee on,
// so that cached statements are not planned again at each run.
func TestConnections_PlannerStability(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	for name, pool := range map[string]*sql.DB{"writer": d.w, "readers": d.r} {
		var conns []*sql.Conn
		for range 3 {
			c, err := pool.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			if name == "writer" {
				break // one connection
			}
		}
		for i, c := range conns {
			on, err := rawPlannerStability(ctx, c, -1)
			if err != nil || on != 1 {
				t.Errorf("%s connection %d: QPSG = %d (%v), want 1", name, i, on, err)
			}
			c.Close()
		}
	}
}

// No connection has a mutex of its own (dsn's _mutex=no) and SQLite keeps
// no memory statistics (set in init): with them, SQLite would count the
// bytes of the queries run here.
func TestConnections_NoMutexNoMemoryStatistics(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	for name, pool := range map[string]*sql.DB{"writer": d.w, "readers": d.r} {
		c, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil || n == 0 {
			t.Fatalf("%s: %d schema rows (%v)", name, n, err)
		}
		err = c.Raw(func(dc any) error {
			has, err := connectionMutex(dc.(*sqlite3.SQLiteConn))
			if err == nil && has {
				err = errors.New("the connection has a mutex")
			}
			return err
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		c.Close()
	}
	if used := sqliteMemoryUsed(); used != 0 {
		t.Errorf("SQLite counted %d bytes: its memory statistics are on", used)
	}
}

// BenchmarkAccountByDirectoryUser looks up accounts by directory user (a
// join with directories; 10% of the people have one), as the account sync
// does for every event, with QPSG on and, for comparison, off.
func BenchmarkAccountByDirectoryUser(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, b.TempDir()+"/b.db")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	const people = 10_000
	err = d.Tx(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO directories (id, organization_id, name, type, state, synced_at) VALUES ('dir_1', 'org_1', 'Dir', 'okta', 'linked', '')`); err != nil {
			return err
		}
		for i := range people / 10 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (organization_id, directory_id, directory_user_id, email, created_at, updated_at) VALUES ('org_1', 'dir_1', ?, ?, '', '')`,
				fmt.Sprintf("directory_user_%d", i*10), fmt.Sprintf("p%d@example.com", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, qpsg := range []int{1, 0} {
		b.Run(fmt.Sprintf("qpsg=%d", qpsg), func(b *testing.B) {
			c, err := d.w.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rawPlannerStability(ctx, c, qpsg); err != nil {
				b.Fatal(err)
			}
			c.Close()
			defer func() {
				c, _ := d.w.Conn(ctx)
				rawPlannerStability(ctx, c, 1)
				c.Close()
			}()
			i := 0
			err = d.Tx(ctx, func(tx Tx) error {
				for b.Loop() {
					_, err := AccountByDirectoryUserTx(ctx, tx, fmt.Sprintf("directory_user_%d", i%people))
					if err != nil && !errors.Is(err, ErrNotFound) {
						return err
					}
					i++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
