package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListenAndServe_StopsAndSavesOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	sb, err := New(Options{StatePath: path, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sb.ListenAndServe(ctx, "127.0.0.1:0") }()
	if _, err := sb.opHire(sb.State().Directories[0].ID, hireInput{FirstName: "Saved"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ListenAndServe: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return after cancel")
	}
	again, err := New(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	found := false
	for _, u := range again.State().Users {
		if u.FirstName != nil && *u.FirstName == "Saved" {
			found = true
		}
	}
	if !found {
		t.Error("the hire made before shutdown was not saved")
	}
	if err := sb.Close(); err != nil { // a second Close is harmless
		t.Errorf("second Close: %v", err)
	}
}

func TestSaver_WritesAfterChangesWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	sb, err := New(Options{StatePath: path, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sb.saver.mu.Lock()
	sb.saver.debounce = 10 * time.Millisecond
	sb.saver.mu.Unlock()
	// New writes the freshly seeded state once.
	waitFor(t, func() bool { _, err := os.Stat(path); return err == nil })
	info, _ := os.Stat(path)
	if _, err := sb.opHire(sb.State().Directories[0].ID, hireInput{FirstName: "Debounced"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		b, err := os.ReadFile(path)
		return err == nil && len(b) != int(info.Size()) && strings.Contains(string(b), "Debounced")
	})
}

// waitFor polls cond for up to 30 seconds (a timeout, not a speed check).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 30 s")
}
