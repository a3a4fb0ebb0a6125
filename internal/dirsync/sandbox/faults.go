package sandbox

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// faults are the injected failures; guarded by Sandbox.mu.
type faults struct {
	rateLimit bool
	latency   time.Duration
	errorRate float64
	dropRate  float64
}

// injectFault applies latency, dropped connections and 5xx answers to an
// API request. It reports whether the request was answered (or aborted).
func (s *Sandbox) injectFault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.RLock()
	f := s.faults
	s.mu.RUnlock()
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.dropRate > 0 && rand.Float64() < f.dropRate {
		// The server closes the connection without writing a response.
		panic(http.ErrAbortHandler)
	}
	if f.errorRate > 0 && rand.Float64() < f.errorRate {
		if rand.IntN(2) == 0 {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		} else {
			w.Header().Set("Retry-After", "1")
			writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		}
		return true
	}
	return false
}

// rateLimiter is a sliding one-second window per directory, as WorkOS
// applies on /directory_users (4 requests per second per directory).
type rateLimiter struct {
	mu     sync.Mutex
	recent map[string][]int64 // key -> times (ms) of the accepted requests in the window
}

const usersPerSecond = 4

func newRateLimiter() *rateLimiter { return &rateLimiter{recent: map[string][]int64{}} }

// allow records a request at now; when the window is full it returns the
// seconds to wait instead.
func (l *rateLimiter) allow(key string, now int64) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	times := l.recent[key]
	kept := times[:0]
	for _, t := range times {
		if now-t < 1000 {
			kept = append(kept, t)
		}
	}
	if len(kept) >= usersPerSecond {
		l.recent[key] = kept
		wait := 1000 - (now - kept[0])
		return false, int((wait + 999) / 1000)
	}
	l.recent[key] = append(kept, now)
	return true, 0
}

// allowUsersRequest enforces the /directory_users limit when it is on and
// writes the 429 (spec body: the JSON string "Ratelimited").
func (s *Sandbox) allowUsersRequest(w http.ResponseWriter, key string) bool {
	if !s.faults.rateLimit {
		return true
	}
	ok, wait := s.limiter.allow(key, s.now())
	if ok {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(wait, 1)))
	writeJSONBytes(w, http.StatusTooManyRequests, []byte(`"Ratelimited"`))
	return false
}
