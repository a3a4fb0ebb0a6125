package db

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

// trim_threshold sets glibc's M_TRIM_THRESHOLD: mallopt's result (1 done,
// 0 refused), or -1 where the C library is not glibc.
static int trim_threshold(int bytes) {
#ifdef __GLIBC__
	return mallopt(M_TRIM_THRESHOLD, bytes);
#else
	return -1;
#endif
}

// kept_after_free allocates n blocks of size bytes, frees them and returns
// how many more bytes glibc holds free afterwards than while they were
// allocated (what it did not give back to the kernel), or -1 where the C
// library is not glibc. Measured from the allocated state, so that free
// memory the blocks were carved from (left by earlier work in the process)
// does not count against them.
static long long kept_after_free(int n, int size) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	void **p = malloc(sizeof(void*) * n);
	if (p == NULL) return 0;
	for (int i = 0; i < n; i++) p[i] = malloc(size);
	struct mallinfo2 before = mallinfo2();
	for (int i = n - 1; i >= 0; i--) free(p[i]);
	struct mallinfo2 after = mallinfo2();
	free(p);
	return (long long)after.fordblks - (long long)before.fordblks;
#else
	return -1;
#endif
}
*/
import "C"

import "sync"

// mallocTrimThreshold is how much free memory glibc's malloc keeps at the
// top of a heap before it hands it back to the kernel: 8 MiB instead of
// its 128 KiB. SQLite allocates with malloc, on whichever thread the Go
// scheduler runs a query (so in many of glibc's per-thread heaps), and the
// event sync freed and allocated again a few MiB per transaction: with the
// default, glibc returned it each time (madvise, and on a VM every madvise
// of a many-threaded process interrupts the other core to flush its TLB),
// then the kernel faulted the pages in and zeroed them again. Perf showed
// madvise, page faults and zeroing at about a sixth of the sync's samples.
// Paired runs of the bench's event sync on copies of one replica: 6,527,
// 5,314 and 6,186 against 5,592, 5,466 and 4,229 events/s; 4 MiB did as
// well as 64 MiB. A full bench run gains little: its first load has
// probably made glibc raise the threshold itself (it does after freeing
// a large block); this makes a freshly started process as fast.
const mallocTrimThreshold = 8 << 20

var tuneMallocOnce sync.Once

// tuneMalloc sets mallocTrimThreshold once per process. It reports whether
// glibc took it (false also where the C library is not glibc, known by
// glibc == false).
func tuneMalloc() (done, glibc bool) {
	r := C.trim_threshold(C.int(mallocTrimThreshold))
	return r == 1, r != -1
}

// keptAfterFree is how many of n freed blocks' bytes malloc keeps (see
// kept_after_free above), -1 where it cannot tell; for the tests.
func keptAfterFree(n, size int) int64 {
	return int64(C.kept_after_free(C.int(n), C.int(size)))
}
