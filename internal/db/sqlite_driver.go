package db

/*
// sqlite3_db_config is SQLite's, compiled into the go-sqlite3 package that
// this binary links; it is not one go-sqlite3 wraps.
typedef struct sqlite3 sqlite3;
int sqlite3_db_config(sqlite3*, int op, ...);
int sqlite3_config(int, ...);
typedef struct sqlite3_mutex sqlite3_mutex;
sqlite3_mutex *sqlite3_db_mutex(sqlite3*);
long long sqlite3_memory_used(void);

// memstatus_off sets SQLITE_CONFIG_MEMSTATUS (9) to 0; SQLite takes it
// only before it is initialized (SQLITE_OK, else SQLITE_MISUSE).
static int memstatus_off(void) { return sqlite3_config(9, 0); }

// has_mutex reports whether a connection serializes its calls with a
// mutex of its own (SQLite's serialized mode).
static int has_mutex(void *db) { return sqlite3_db_mutex((sqlite3*)db) != 0; }

static long long memory_used(void) { return sqlite3_memory_used(); }

// qpsg sets SQLITE_DBCONFIG_ENABLE_QPSG (1007) to set (1 on, 0 off, -1
// unchanged) and returns the setting as SQLite reports it afterwards, or
// -1 if SQLite refused the call.
static int qpsg(void *db, int set) {
	int on = -1;
	if (sqlite3_db_config((sqlite3*)db, 1007, set, &on) != 0) return -1;
	return on;
}
*/
import "C"

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// driverName is go-sqlite3 with one change to every connection it opens:
// SQLite's query planner stability guarantee (QPSG) is on.
//
// Why: when the planner looks at a bound value (for a join with "col = ?"
// its row estimates ask whether the value is 0 or 1; a partial index's
// WHERE compares it too), SQLite marks the statement to be planned again
// once that parameter is rebound, and sqlite3_clear_bindings, which
// go-sqlite3 calls every time a statement goes back to its cache, expires
// any such statement whatever the new value. Every run was then parsed and
// planned again: an account looked up by directory user (a join with
// directories) cost 31 µs instead of 7 µs on the bench's replica, 48 µs
// instead of 6.6 in BenchmarkAccountByDirectoryUser. With QPSG the plan
// never depends on bound values, so cached statements stay prepared.
// Roster has no sqlite_stat4 statistics and no LIKE on bound patterns, the
// cases where a value-specific plan could have been better.
const driverName = "sqlite3_roster"

// readerDriverName is driverName for the read-only pool: its connections
// also map the database file into memory (readerMmapSize).
const readerDriverName = "sqlite3_roster_read"

// readerMmapSize is how much of the database file each reader maps: 1 GiB,
// twice a 100,000-person replica; beyond it SQLite reads with pread
// as before. A mapped page is read without a system call: on the bench's
// replica, six paired runs gave the invite's preview (10,000 people looked
// up at random) 248 ms on average against 277, three gave the users page
// under 32 clients 2,419-2,515 req/s against 2,276-2,398. The writer maps
// nothing, so a first load (all on the writer) counts no mapped pages in
// its peak RSS; the readers' mapped pages are the kernel's page cache,
// shared, counted in RSS as RssFile.
const readerMmapSize = 1 << 30

// SQLite's memory statistics are off (SQLITE_CONFIG_MEMSTATUS). With them
// on, as go-sqlite3 leaves them, every allocation and free inside SQLite
// takes one process-wide mutex to count bytes nobody reads here: locking
// was a tenth of the CPU samples of the invite. Paired runs of the bench's
// invite on copies of one replica: 358-379 → 321-342 ms (with _mutex=no,
// see dsn). Set before any connection opens: SQLite reads it when it
// initializes, at the first open.
func init() {
	C.memstatus_off()
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: onConnect})
	sql.Register(readerDriverName, &sqlite3.SQLiteDriver{ConnectHook: onReaderConnect})
}

// onConnect is the driver's connect hook: QPSG on. Not a DSN parameter in
// go-sqlite3; set here, every connection a pool opens has it, also one
// opened again after a bad one was dropped. The writer's connections also
// report their commits to the database's checkpointer (checkpoint.go),
// in place of SQLite's automatic checkpoint.
func onConnect(c *sqlite3.SQLiteConn) error {
	return enableQPSG(c)
}

// onReaderConnect is the read-only pool's connect hook: QPSG on, and the
// file mapped (readerMmapSize).
func onReaderConnect(c *sqlite3.SQLiteConn) error {
	if err := enableQPSG(c); err != nil {
		return err
	}
	_, err := c.Exec(fmt.Sprintf(`PRAGMA mmap_size = %d`, readerMmapSize), nil)
	return err
}

// enableQPSG turns on the query planner stability guarantee.
func enableQPSG(c *sqlite3.SQLiteConn) error {
	on, err := plannerStability(c, 1)
	if err == nil && on != 1 {
		err = errors.New("db: SQLite refused SQLITE_DBCONFIG_ENABLE_QPSG")
	}
	return err
}

// plannerStability sets a connection's QPSG setting (1 on, 0 off, -1 leave
// it) and returns it.
func plannerStability(c *sqlite3.SQLiteConn, set int) (int, error) {
	h, err := sqliteHandle(c)
	if err != nil {
		return 0, err
	}
	return int(C.qpsg(h, C.int(set))), nil
}

// connectionMutex reports whether a connection has a mutex of its own
// (for the tests, which cannot call C themselves).
func connectionMutex(c *sqlite3.SQLiteConn) (bool, error) {
	h, err := sqliteHandle(c)
	if err != nil {
		return false, err
	}
	return C.has_mutex(h) != 0, nil
}

// sqliteMemoryUsed is SQLite's count of the bytes it holds: 0 while its
// memory statistics are off (for the tests).
func sqliteMemoryUsed() int64 { return int64(C.memory_used()) }

// sqliteHandle is the connection's sqlite3 handle, which go-sqlite3 keeps
// in an unexported field, read here through reflect (a pointer: no copy,
// no write).
func sqliteHandle(c *sqlite3.SQLiteConn) (unsafe.Pointer, error) {
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return nil, errors.New("db: go-sqlite3 connection without its sqlite3 handle")
	}
	return f.UnsafePointer(), nil
}

// connector opens connections with a driver of their own: the writer's
// connect hook, unlike the registered drivers', knows its database.
type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }
