package onboarding

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
)

// TestSyncChildProcess is not a test on its own: TestSyncer_CrashSafety runs
// the test binary again with this test selected and the environment below,
// and kills it with SIGKILL at random moments.
func TestSyncChildProcess(t *testing.T) {
	if os.Getenv("ROSTER_SYNC_CHILD") != "1" {
		t.Skip("run by TestSyncer_CrashSafety")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	store, err := db.Open(ctx, os.Getenv("ROSTER_SYNC_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	api := dirsync.New(dirsync.Config{BaseURL: os.Getenv("ROSTER_SYNC_URL"), APIKey: sandbox.DefaultAPIKey,
		UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1, Sleep: fastSleep})
	s := NewSyncer(store, api, quietLog())
	s.Interval = 20 * time.Millisecond
	fmt.Println("child ready")
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSyncer_CrashSafety kills a syncing process with SIGKILL at random
// points of its backfill and of its event sync, again and again while the
// directory changes, restarting it each time. Each time the database must be
// sound: no duplicate rows, cursors and generations never going back. In
// the end the replica equals the sandbox.
func TestSyncer_CrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a process 21 times")
	}
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetDemo, Seed: 11})
	// A little latency stretches the backfill over several hundred
	// milliseconds, so that kills land inside it.
	ts.setFaults(t, map[string]any{"latency_ms": 3})
	dbPath := filepath.Join(t.TempDir(), "crash.db")
	dirs := ts.sb.State().Directories
	rng := rand.New(rand.NewPCG(42, 7))
	cursors := map[string]string{}
	gens := map[string]int64{}
	sawLoading, sawLive := false, false
	const iterations = 21

	for i := range iterations {
		child := exec.Command(os.Args[0], "-test.run=^TestSyncChildProcess$")
		child.Env = append(os.Environ(), "ROSTER_SYNC_CHILD=1", "ROSTER_SYNC_DB="+dbPath, "ROSTER_SYNC_URL="+ts.srv.URL)
		var out bytes.Buffer
		child.Stderr = &out
		stdout, err := child.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		// Time the kill from the moment the child has opened the database,
		// however slowly the binary starts (-race).
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if sc.Text() == "child ready" {
					close(ready)
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			t.Fatalf("iteration %d: child never got ready:\n%s", i, out.String())
		}
		// Change the directory while the child works.
		d := dirs[i%len(dirs)].ID
		switch i % 4 {
		case 0:
			ts.scenario(t, "new-hires", d, 4, "")
		case 1:
			ts.scenario(t, "reorg", d, 6, "")
		case 2:
			ts.scenario(t, "leavers", d, 2, "delete")
		case 3:
			ts.scenario(t, "leavers", d, 2, "")
		}
		if i%7 == 6 {
			// Now and then let the restarted process catch up fully before the kill.
			waitEqualFile(t, dbPath, ts)
		} else {
			time.Sleep(time.Duration(20+rng.IntN(700)) * time.Millisecond)
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = child.Wait()
		if ws, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("iteration %d: child ended on its own (%v):\n%s", i, err, out.String())
		}

		// The database as the kill left it.
		store, err := db.Open(context.Background(), dbPath)
		if err != nil {
			t.Fatalf("iteration %d: reopen: %v", i, err)
		}
		checkSound(t, store, i)
		states, err := store.SyncStates(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if st.EventsCursor < cursors[st.DirectoryID] {
				t.Errorf("iteration %d: %s cursor moved back: %s → %s", i, st.DirectoryID, cursors[st.DirectoryID], st.EventsCursor)
			}
			if st.Generation < gens[st.DirectoryID] {
				t.Errorf("iteration %d: %s generation moved back: %d → %d", i, st.DirectoryID, gens[st.DirectoryID], st.Generation)
			}
			cursors[st.DirectoryID], gens[st.DirectoryID] = st.EventsCursor, st.Generation
			sawLoading = sawLoading || st.Loading()
			sawLive = sawLive || st.Phase == db.PhaseLive
		}
		store.Close()
	}
	if !sawLoading || !sawLive {
		t.Errorf("kills landed during loading: %v, during live sync: %v; want both", sawLoading, sawLive)
	}
	// A last restart, in this process, converges.
	store := openTestDB(t, dbPath)
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 3)
	requireEqual(t, store, ts)
	checkSound(t, store, iterations)
}

// waitEqualFile waits until the database file's replica equals the sandbox
// (a child process is writing it).
func waitEqualFile(t *testing.T, path string, ts *testSandbox) {
	t.Helper()
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	deadline := time.Now().Add(3 * time.Minute) // generous: CI machines can be loaded
	for {
		diffs := diffReplica(t, store, ts.sb.State())
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			states, _ := store.SyncStates(context.Background())
			for _, st := range states {
				diffs = append(diffs, fmt.Sprintf("%s: phase %s gen %d groups %d/%d users %d/%d members %d cursor %q error %q",
					st.DirectoryID, st.Phase, st.Generation, st.GroupsDone, st.GroupsTotal, st.UsersDone, st.UsersTotal,
					st.MembershipsDone, st.EventsCursor, st.LastError))
			}
			t.Fatalf("restarted process did not converge:\n%s", strings.Join(diffs, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSound checks what a crash could break: SQLite's integrity, the
// search index against the people, counters and cursors.
func checkSound(t *testing.T, store *db.DB, i int) {
	t.Helper()
	ctx := context.Background()
	var res string
	err := store.Tx(ctx, func(tx db.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
			return err
		}
		// FTS4's own check: the search index holds exactly the words of the
		// people it should (db migration 0013: the live people of indexed
		// directories), no fewer, no more. PRAGMA integrity_check runs it
		// too in this SQLite; asked for here by name so that it cannot go
		// missing with a version.
		if _, err := tx.ExecContext(ctx, `INSERT INTO directory_user_search(directory_user_search) VALUES ('integrity-check')`); err != nil {
			t.Errorf("iteration %d: search index check: %v", i, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("iteration %d: integrity_check: %s", i, res)
	}
}
