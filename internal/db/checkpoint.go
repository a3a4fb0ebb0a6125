package db

/*
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
void *sqlite3_wal_hook(sqlite3*, int (*)(void*, sqlite3*, const char*, int), void*);
int sqlite3_wal_checkpoint_v2(sqlite3*, const char*, int, int*, int*);

// walWatch is shared by a database's writer connection and Go: the WAL's
// length in pages after the writer's last commit, and the length at which
// the writer copies it into the database file itself.
typedef struct {
	int pages;
	int limit;
} walWatch;

// afterCommit is the writer's WAL hook, called by SQLite after each commit.
static int afterCommit(void *arg, sqlite3 *db, const char *name, int pages) {
	walWatch *w = arg;
	__atomic_store_n(&w->pages, pages, __ATOMIC_RELAXED);
	if (pages >= w->limit) {
		sqlite3_wal_checkpoint_v2(db, name, 0, 0, 0); // SQLITE_CHECKPOINT_PASSIVE
	}
	return 0;
}

static walWatch *newWALWatch(int limit) {
	walWatch *w = calloc(1, sizeof *w);
	if (w) w->limit = limit;
	return w;
}

// watch replaces the connection's automatic checkpoint with afterCommit.
static void watch(void *db, walWatch *w) { sqlite3_wal_hook((sqlite3*)db, afterCommit, w); }

static int walPages(walWatch *w) { return __atomic_load_n(&w->pages, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// A checkpoint copies the pages of the WAL into the database file, so that
// the WAL can start again from its beginning. SQLite's automatic
// checkpoint runs in the commit that takes the WAL past a length, and that
// commit waits for it: two fsyncs (45 ms each here, up to 100) and the
// copy. The checkpointer does the copying on its own connection while the
// writer goes on: each time the writer has added checkpointStep pages, and
// when the writer has been idle for checkpointIdle with at least a tenth of
// a step waiting (1,000 pages, SQLite's own default; an admin's few clicks
// wait for more). The WAL can only start again once all of it is copied; under sustained writes the writer's
// commit past checkpointLimit pages copies the rest itself (at most a
// step's worth; also the bound if the checkpointer falls behind).
//
// Measured on the bench's replica, 100,000 events, paired runs: SQLite's
// automatic checkpoint every 10,000 pages wrote 49 KiB per event; every
// 40,000 pages 23 KiB and about a tenth faster, but the commit that crossed
// the mark waited for up to 165 MB to be copied (the invite after the first
// load took 1.0 s instead of 0.6-0.8).
const (
	checkpointStep  = 10000
	checkpointLimit = 40000
	checkpointIdle  = 500 * time.Millisecond
)

// checkpointer runs the background checkpoints of one database.
type checkpointer struct {
	wal  *C.walWatch
	conn *sql.DB // its own connection: a checkpoint does not block the writer
	step int
	kick chan struct{} // a commit; never closed, so that a late commit cannot panic
	quit chan struct{}
	done chan struct{}
	runs atomic.Int64 // background checkpoints run (tests read it)
}

func newCheckpointer(path string, step, limit int) (*checkpointer, error) {
	wal := C.newWALWatch(C.int(limit))
	if wal == nil {
		return nil, errors.New("db: no memory for the WAL watch")
	}
	conn, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		C.free(unsafe.Pointer(wal))
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{wal: wal, conn: conn, step: step,
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// watch makes a writer connection report its commits to c, in place of
// SQLite's automatic checkpoint.
func (c *checkpointer) watch(sc *sqlite3.SQLiteConn) error {
	h, err := sqliteHandle(sc)
	if err != nil {
		return err
	}
	C.watch(h, c.wal)
	return nil
}

// committed tells the checkpointer that the writer committed; it never
// blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	copied := 0 // the WAL's length when it was last copied
	idle := time.NewTimer(checkpointIdle)
	idle.Stop()
	defer idle.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-c.kick:
			pages := c.walPages()
			if pages < copied {
				copied = 0 // the WAL started again
			}
			if pages-copied >= c.step {
				copied = c.checkpoint(pages, copied)
			}
			idle.Reset(checkpointIdle)
		case <-idle.C:
			if pages := c.walPages(); pages < copied || pages-copied >= c.step/10 {
				copied = c.checkpoint(pages, copied)
			}
		}
	}
}

// checkpoint copies the WAL, of pages pages, and returns its length as
// copied (copied as before when it failed, SQLITE_BUSY while the writer
// copies it: the next kick or the writer does).
func (c *checkpointer) checkpoint(pages, copied int) int {
	if c.copyWAL(context.Background()) != nil {
		return copied
	}
	c.runs.Add(1)
	return pages
}

// copyWAL runs one checkpoint that copies what it can without waiting for
// the writer or the readers.
func (c *checkpointer) copyWAL(ctx context.Context) error {
	var busy, log, done int
	return c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
}

// stop ends the background checkpoints. The writer must be closed after
// it, and free called after that.
func (c *checkpointer) stop() error {
	close(c.quit)
	<-c.done
	return c.conn.Close()
}

// free releases the WAL watch; no writer connection may use it any more.
func (c *checkpointer) free() { C.free(unsafe.Pointer(c.wal)) }

// walPages is the WAL's length in pages after the writer's last commit.
func (c *checkpointer) walPages() int { return int(C.walPages(c.wal)) }

// Checkpoint copies the WAL into the database file now, from the
// checkpointer's connection, without blocking the writer. A first load
// ends with it: the WAL it leaves would otherwise be copied while the
// first admins browse and invite.
func (d *DB) Checkpoint(ctx context.Context) error {
	if d.ckpt == nil {
		return nil
	}
	if err := d.ckpt.copyWAL(ctx); err != nil {
		return fmt.Errorf("db: checkpoint: %w", err)
	}
	return nil
}
