package db

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writePages commits n transactions, each adding rows that take about
// pages new pages of the table scratch, and returns the WAL's length in
// pages after each commit.
func writePages(t *testing.T, d *DB, n, pages int) []int {
	t.Helper()
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS scratch (v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 1000) // four rows a page
	var lengths []int
	for i := 0; i < n; i++ {
		err := d.Tx(ctx, func(tx Tx) error {
			for j := 0; j < 4*pages; j++ {
				if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (v) VALUES (?)`, row); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		lengths = append(lengths, d.ckpt.walPages())
	}
	return lengths
}

func scratchRows(t *testing.T, d *DB) int {
	t.Helper()
	var n int
	if err := d.r.QueryRow(`SELECT count(*) FROM scratch`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The writer never copies the WAL itself below its limit: the background
// checkpoints do, every step pages and once the writer is idle, after which
// the WAL starts again from its beginning.
func TestCheckpointer_CopiesInTheBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	d, err := Open(context.Background(), path, Options{checkpointStep: 100, checkpointLimit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lengths := writePages(t, d, 30, 20)
	// The WAL may start again midway, if the writer paused while a
	// background copy caught up with it; it grew past the step first.
	if longest := slices.Max(lengths); longest < 200 {
		t.Fatalf("the WAL never grew past 200 pages of 600 written (does the hook report commits?); lengths %v", lengths)
	}
	if d.ckpt.runs.Load() == 0 {
		t.Fatalf("no background checkpoint after 600 pages (step 100); lengths %v", lengths)
	}
	// Idle: the checkpointer copies all of it, so that the next commit
	// starts the WAL again.
	deadline := time.Now().Add(10 * time.Second)
	rows := 30 * 80
	for {
		before := d.ckpt.runs.Load()
		time.Sleep(2 * checkpointIdle)
		again := writePages(t, d, 1, 1)
		rows += 4
		if again[0] < 10 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the WAL did not start again after idle catch-ups (%d pages, %d checkpoints then %d)", again[0], before, d.ckpt.runs.Load())
		}
	}
	if n := scratchRows(t, d); n != rows {
		t.Fatalf("%d rows, want %d", n, rows)
	}
	var ok string
	if err := d.w.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
}

// Past its limit the writer copies the WAL itself, so that it starts again
// even when no background checkpoint runs: its file stays bounded.
func TestCheckpointer_WriterBoundsTheWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	d, err := Open(context.Background(), path, Options{checkpointStep: 1 << 30, checkpointLimit: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lengths := writePages(t, d, 60, 20) // 1,200 pages
	restarts := 0
	for i, n := range lengths {
		if n > 200+2*25 {
			t.Fatalf("the WAL reached %d pages (limit 200); lengths %v", n, lengths)
		}
		if i > 0 && n < lengths[i-1] {
			restarts++
		}
	}
	if restarts < 3 {
		t.Fatalf("the WAL started again %d times over 1,200 pages with a limit of 200; lengths %v", restarts, lengths)
	}
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if max := int64(32 + (200+2*25)*(24+4096)); st.Size() > max {
		t.Fatalf("WAL file %d bytes, want at most %d", st.Size(), max)
	}
	if d.ckpt.runs.Load() != 0 {
		t.Fatalf("%d background checkpoints with a step beyond reach", d.ckpt.runs.Load())
	}
	if n := scratchRows(t, d); n != 60*80 {
		t.Fatalf("%d rows, want %d", n, 60*80)
	}
}

// Checkpoint copies all of the WAL at once: the next commit starts it
// again although neither the writer nor the background reached a mark.
func TestCheckpoint_CopiesAllNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	d, err := Open(context.Background(), path, Options{checkpointStep: 1 << 30, checkpointLimit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	before := writePages(t, d, 10, 20)
	if last := before[len(before)-1]; last < 200 {
		t.Fatalf("the WAL is %d pages after 200 written", last)
	}
	if err := d.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := writePages(t, d, 1, 1); after[0] > 10 {
		t.Fatalf("the WAL is %d pages after a checkpoint and one small commit, want it started again", after[0])
	}
	if n := scratchRows(t, d); n != 10*80+4 {
		t.Fatalf("%d rows, want %d", n, 10*80+4)
	}
}

// Closing twice (a test's cleanup after an explicit Close) neither panics
// nor frees the WAL watch twice.
func TestClose_Twice(t *testing.T) {
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	writePages(t, d, 1, 1)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
