// Package db owns Roster's SQLite storage: the schema (embedded, versioned
// migrations), the connection pools and every SQL query. No other package
// holds SQL.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("db: not found")

// DB holds one writer connection (SQLite allows one writer at a time, so
// queueing in Go is cheaper than SQLITE_BUSY retries) and a pool of readers.
type DB struct {
	w    *sql.DB
	r    *sql.DB
	ckpt *checkpointer
	Now  func() time.Time // injectable clock; defaults to time.Now

	closeOnce sync.Once
	closeErr  error
}

// Options tune Open; the zero value is right for the app.
type Options struct {
	Readers int // reader pool size, default 4
	// When the WAL is copied into the database file (checkpoint.go);
	// tests make them small.
	checkpointStep, checkpointLimit int
}

// Open creates the folder and the database file if needed, applies pending
// migrations and returns the pools. A failed migration leaves the database
// as it was and is returned as an error.
func Open(ctx context.Context, path string, opts ...Options) (*DB, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Readers <= 0 {
		o.Readers = 4
	}
	if o.checkpointStep <= 0 {
		o.checkpointStep = checkpointStep
	}
	if o.checkpointLimit <= 0 {
		o.checkpointLimit = checkpointLimit // 0 would copy the WAL at every commit
	}
	tuneMallocOnce.Do(func() { tuneMalloc() })
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("db: create folder for %s: %w", path, err)
		}
	}
	ckpt, err := newCheckpointer(path, o.checkpointStep, o.checkpointLimit)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	w := sql.OpenDB(connector{dsn: dsn(path, false), drv: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if err := onConnect(c); err != nil {
			return err
		}
		return ckpt.watch(c)
	}}})
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	d := &DB{w: w, ckpt: ckpt, Now: time.Now}
	if err := d.migrate(ctx, migrationFS); err != nil {
		d.Close()
		return nil, err
	}
	// A first load that stopped before the end of its users or memberships
	// phase left their indexes out (ReplicaWriter.DeferIndexes).
	for _, l := range []LoadIndexes{PeopleIndexes, MembershipIndexes} {
		if err := ensureIndexes(ctx, w, l); err != nil {
			d.Close()
			return nil, err
		}
	}
	r, err := sql.Open(readerDriverName, dsn(path, true))
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("db: open readers %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.Readers)
	r.SetMaxIdleConns(o.Readers)
	d.r = r
	return d, nil
}

// dsn builds the go-sqlite3 connection string. SQLite-specific tuning lives
// here and in pragmas below, nowhere else.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	// Keep each connection's recently used statements prepared: preparing
	// was a tenth of a users page's CPU time.
	q.Set("_stmt_cache_size", "64")
	// No mutex per connection (SQLITE_OPEN_NOMUTEX; go-sqlite3 asks for
	// one by default): database/sql hands a connection to one goroutine at
	// a time, so the mutex SQLite took on each call, each column read
	// included, only cost time; sqlite3_interrupt, the one call made from
	// elsewhere (a cancelled context), needs none. Worth ~3% of the
	// bench's invite beside the memory statistics (sqlite_driver.go).
	q.Set("_mutex", "no")
	if readOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("_txlock", "immediate")
		// 8 MiB of page cache for the writer (SQLite's default is 2): a
		// backfill inserts in name order into indexes of tens of MiB, and
		// with the default nearly every insert read its index page again
		// from the file. Measured: 100k users stored with 8.3 instead of
		// 16.7 CPU-seconds.
		q.Set("_cache_size", "-8000")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close stops the background checkpoints, checkpoints the WAL and closes
// both pools. Closing again does nothing and returns the first result.
func (d *DB) Close() error {
	d.closeOnce.Do(func() { d.closeErr = d.close() })
	return d.closeErr
}

func (d *DB) close() error {
	var errs []error
	if d.r != nil {
		errs = append(errs, d.r.Close())
	}
	if d.ckpt != nil {
		errs = append(errs, d.ckpt.stop())
	}
	if d.w != nil {
		_, _ = d.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		errs = append(errs, d.w.Close())
	}
	if d.ckpt != nil {
		d.ckpt.free()
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers and is fully migrated.
func (d *DB) Ping(ctx context.Context) error {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	files, err := migrationNames(migrationFS)
	if err != nil {
		return err
	}
	if n < len(files) {
		return fmt.Errorf("db: %d of %d migrations applied", n, len(files))
	}
	return nil
}

// Tx is a write transaction: the writer connection between BEGIN
// IMMEDIATE and COMMIT (a *sql.Conn). Not a *sql.Tx: database/sql starts a
// goroutine for every query on a *sql.Tx to watch the transaction's
// context, and waking it and the thread it ran on cost the event sync a
// third of its CPU time on this 2-core VM (29.9-31.4 against 19.4-19.8
// CPU-seconds for 100,000 events); on a connection, a query with a context
// that cannot be cancelled starts none.
type Tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Tx runs fn in one write transaction: committed if fn returns nil and ctx
// is not done, rolled back otherwise (also when fn panics). Statements
// given ctx stop when it is cancelled; those given a context without
// cancellation run to their end, and the transaction is then rolled back.
func (d *DB) Tx(ctx context.Context, fn func(tx Tx) error) error {
	return d.tx(ctx, false, fn)
}

// BulkTx is Tx for a transaction that writes thousands of rows with
// multi-row statements (an invite). SQLite keeps its temporary data in
// memory for it: the statement journal, a copy of every page a statement
// changes (so that it alone can be undone on a constraint error), and
// large sorts. In temporary files they cost a 10,000-person invite some
// 60,000 page writes and ~130 ms of its ~850. Not the default: a first
// load's index builds, also write transactions, would then sort tens of
// MiB in memory.
func (d *DB) BulkTx(ctx context.Context, fn func(tx Tx) error) error {
	return d.tx(ctx, true, fn)
}

func (d *DB) tx(ctx context.Context, inMemory bool, fn func(tx Tx) error) error {
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer conn.Close()
	bg := context.WithoutCancel(ctx)
	began, committed := false, false
	defer func() {
		if began && !committed {
			_, _ = conn.ExecContext(bg, `ROLLBACK`)
		}
		reset := true
		if inMemory {
			_, err := conn.ExecContext(bg, `PRAGMA temp_store = DEFAULT`)
			reset = err == nil
		}
		// A connection left inside a transaction (a ROLLBACK that failed)
		// would refuse every later BEGIN, one left with its temporary data
		// in memory would keep it there: the pool drops it, opens another.
		_ = conn.Raw(func(dc any) error {
			if c, ok := dc.(*sqlite3.SQLiteConn); (ok && !c.AutoCommit()) || !reset {
				return driver.ErrBadConn
			}
			return nil
		})
	}()
	// SQLite picks where a transaction keeps its statement journal when it
	// begins, and refuses to change temp_store inside one.
	if inMemory {
		if _, err := conn.ExecContext(bg, `PRAGMA temp_store = MEMORY`); err != nil {
			return fmt.Errorf("db: begin: %w", err)
		}
	}
	if _, err := conn.ExecContext(bg, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	began = true
	if err := fn(conn); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(bg, `COMMIT`); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	committed = true
	if d.ckpt != nil {
		d.ckpt.committed()
	}
	return nil
}

func (d *DB) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

// ts formats a time the way every timestamp column stores it: RFC 3339 with
// milliseconds, UTC, so that text order is time order.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// parseTS reads a timestamp written by ts; a zero time for "".
func parseTS(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}

func migrationNames(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, fmt.Errorf("db: read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// migrate applies, in name order, every embedded migration not yet recorded
// in schema_migrations; each in its own transaction with its record, so a
// failing file changes nothing and stops the start.
func (d *DB) migrate(ctx context.Context, fsys fs.FS) error {
	if _, err := d.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("db: create schema_migrations: %w", err)
	}
	names, err := migrationNames(fsys)
	if err != nil {
		return err
	}
	for _, name := range names {
		var done int
		if err := d.w.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, name).Scan(&done); err != nil {
			return fmt.Errorf("db: read schema_migrations: %w", err)
		}
		if done > 0 {
			continue
		}
		body, err := fs.ReadFile(fsys, "migrations/"+name)
		if err != nil {
			return fmt.Errorf("db: read migration %s: %w", name, err)
		}
		err = d.Tx(ctx, func(tx Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`, name, ts(d.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("db: migration %s failed, database left unchanged: %w", name, err)
		}
	}
	return nil
}
