package sandbox

import (
	"runtime"
	"testing"
	"time"
)

// TestLargePreset generates 100,000 users and 2,000 groups and checks that
// the live heap stays under 500 MB. The time is logged, not asserted.
func TestLargePreset(t *testing.T) {
	if testing.Short() {
		t.Skip("large preset: skipped with -short")
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	sb, err := New(Options{Preset: PresetLarge, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	sb.mu.RLock()
	users, groups, events := len(sb.st.users), len(sb.st.groups), len(sb.st.events)
	memberships := 0
	for _, dd := range sb.st.data {
		for _, m := range dd.members {
			memberships += len(m)
		}
	}
	sb.mu.RUnlock()
	t.Logf("large preset: %d users, %d groups, %d memberships, %d events in %v; live heap %.0f MB (peak sys %.0f MB)",
		users, groups, memberships, events, elapsed, float64(heap)/1e6, float64(after.Sys)/1e6)
	if users != 100_000 || groups != 2_000 {
		t.Errorf("got %d users and %d groups", users, groups)
	}
	if heap > 500<<20 {
		t.Errorf("live heap %d MB exceeds 500 MB", heap>>20)
	}
	runtime.KeepAlive(sb)
	_ = sb.Close()
}

// BenchmarkLargePreset reports the time and allocations of generating the
// large preset; run with -bench LargePreset -benchmem.
func BenchmarkLargePreset(b *testing.B) {
	for b.Loop() {
		sb, err := New(Options{Preset: PresetLarge, Now: newClock().Now})
		if err != nil {
			b.Fatal(err)
		}
		_ = sb.Close()
	}
}
