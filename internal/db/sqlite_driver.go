package db

/*
// sqlite3_db_config is SQLite's, compiled into the go-sqlite3 package that
// this binary links; it is not one go-sqlite3 wraps.
typedef struct sqlite3 sqlite3;
int sqlite3_db_config(sqlite3*, int op, ...);

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
	"database/sql"
	"errors"
	"fmt"
	"reflect"

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

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: onConnect})
	sql.Register(readerDriverName, &sqlite3.SQLiteDriver{ConnectHook: onReaderConnect})
}

// onConnect is the driver's connect hook: QPSG on, and the WAL checkpointed
// every walCheckpointPages pages. Not DSN parameters in go-sqlite3; set
// here, every connection the pool opens has them, also one opened again
// after a bad one was dropped. Only the writer commits, so only it
// checkpoints.
func onConnect(c *sqlite3.SQLiteConn) error {
	if err := enableQPSG(c); err != nil {
		return err
	}
	_, err := c.Exec(fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, walCheckpointPages), nil)
	return err
}

// walCheckpointPages is how many pages the WAL holds before a commit copies
// them into the database file: 40,000 (about 165 MB of WAL), SQLite's
// default being 1,000. A checkpoint waits for two fsyncs (45 ms each here,
// up to 100) and copies every page changed since the last one: the fewer
// checkpoints, the fewer waits and the more changes of one page copied
// once. 10,000 pages gave bulk writes +50 % over the default; 40,000 gave
// 100,000 events, six paired runs on copies of one replica, 12.6-15.1 s
// against 14.5-18 s (median 13.6 against 15.2) and 23 instead of 49 KiB
// written per event, and a first load 25,688 and 25,987 users/s against
// 23,814 and 21,661 with the same peak RSS. The WAL only grows that large
// under sustained writes (a first load, an event backlog); its file keeps
// its size until Close truncates it (a journal_size_limit that truncated
// it after every checkpoint cost the events their gain).
const walCheckpointPages = 40000

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
// it) and returns it. go-sqlite3 keeps the connection's sqlite3 handle in
// an unexported field, read here through reflect (a pointer: no copy, no
// write).
func plannerStability(c *sqlite3.SQLiteConn, set int) (int, error) {
	f := reflect.ValueOf(c).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return 0, errors.New("db: go-sqlite3 connection without its sqlite3 handle")
	}
	return int(C.qpsg(f.UnsafePointer(), C.int(set))), nil
}
