package db

import (
	"runtime"
	"testing"
)

// With malloc tuned as Open does, memory that SQLite frees stays with malloc
// for the next allocation instead of going back to the kernel (see
// mallocTrimThreshold). 6 MiB in 4 KiB blocks, SQLite's page size: with
// glibc's default threshold (128 KiB) all but ~128 KiB of it is given back.
func TestTuneMalloc_FreedMemoryStaysWithMalloc(t *testing.T) {
	done, glibc := tuneMalloc()
	if !glibc {
		t.Skip("not linked with glibc: malloc left as it is")
	}
	if !done {
		t.Fatalf("mallopt(M_TRIM_THRESHOLD, %d) refused", mallocTrimThreshold)
	}
	runtime.LockOSThread() // one thread, so one of glibc's heaps
	defer runtime.UnlockOSThread()
	const n, size = 1536, 4096
	kept := keptAfterFree(n, size)
	if kept < 0 {
		t.Skip("glibc older than 2.33: no mallinfo2")
	}
	if kept < n*size/2 {
		t.Fatalf("malloc kept %d of %d freed bytes, want at least half", kept, n*size)
	}
}
