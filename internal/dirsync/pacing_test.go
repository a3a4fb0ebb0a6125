package dirsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// pagedUsers serves nPages one-user pages per directory, chaining "after"
// cursors, and records the fake time of each request per directory.
type pagedUsers struct {
	clk    *fakeClock
	nPages int
	mu     sync.Mutex
	times  map[string][]time.Time
	limits []string
}

func (p *pagedUsers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dir := q.Get("directory")
	if dir == "" {
		dir = "group:" + q.Get("group")
	}
	p.mu.Lock()
	p.times[dir] = append(p.times[dir], p.clk.Now())
	p.limits = append(p.limits, q.Get("limit"))
	p.mu.Unlock()
	n := 0
	if a := q.Get("after"); a != "" {
		n, _ = strconv.Atoi(a[len("u_"):])
	}
	next := "null"
	if n+1 < p.nPages {
		next = fmt.Sprintf(`"u_%d"`, n+1)
	}
	fmt.Fprintf(w, `{"object":"list","data":[{"id":"directory_user_%d","directory_id":%q,"state":"active"}],"list_metadata":{"before":null,"after":%s}}`, n, dir, next)
}

// maxInWindow returns the largest number of times falling in any [t, t+w).
func maxInWindow(ts []time.Time, w time.Duration) int {
	best := 0
	for i := range ts {
		n := 0
		for j := i; j < len(ts) && ts[j].Sub(ts[i]) < w; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

func TestPacing_HundredPagesAtFourPerSecond(t *testing.T) {
	clk := newFakeClock()
	srv := &pagedUsers{clk: clk, nPages: 100, times: map[string][]time.Time{}}
	c, _ := newTestClient(t, srv, func(c *Config) {
		c.Now, c.Sleep = clk.Now, clk.Sleep
		c.UsersRatePerDirectory, c.KeyRequestsPerMinute = 0, 0 // defaults: 4/s and 6000/min
	})
	start := clk.Now()
	n := 0
	for u, err := range c.AllUsers(context.Background(), ListUsersOptions{Directory: "directory_1"}) {
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != fmt.Sprintf("directory_user_%d", n) {
			t.Fatalf("user %d = %s", n, u.ID)
		}
		n++
	}
	elapsed := clk.Now().Sub(start)
	ts := srv.times["directory_1"]
	if n != 100 || len(ts) != 100 {
		t.Fatalf("users = %d, requests = %d", n, len(ts))
	}
	if got := maxInWindow(ts, time.Second); got != 4 {
		t.Errorf("max requests in a 1 s window = %d, want 4", got)
	}
	// The budget is used fully: 99 gaps of 250 ms, not the 350–500 ms of naive sleeps.
	if elapsed < 24*time.Second || elapsed > 26*time.Second {
		t.Errorf("100 pages took %v of fake time, want ≈25 s", elapsed)
	}
	for i, l := range srv.limits {
		if l != "100" {
			t.Fatalf("request %d limit = %q, want 100", i, l)
		}
	}
}

func TestPacing_DirectoriesIndependent(t *testing.T) {
	clk := newFakeClock()
	srv := &pagedUsers{clk: clk, nPages: 1, times: map[string][]time.Time{}}
	c, _ := newTestClient(t, srv, func(c *Config) { c.Now, c.Sleep = clk.Now, clk.Sleep; c.UsersRatePerDirectory = 4 })
	start := clk.Now()
	for range 8 {
		for _, d := range []string{"directory_a", "directory_b"} {
			if _, err := c.ListUsers(context.Background(), ListUsersOptions{Directory: d}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range []string{"directory_a", "directory_b"} {
		if got := maxInWindow(srv.times[d], time.Second); got != 4 {
			t.Errorf("%s: max in 1 s = %d, want 4", d, got)
		}
	}
	// Sixteen requests, eight per directory: 7 gaps of one interval. A
	// shared bucket would need 15 gaps.
	if elapsed := clk.Now().Sub(start); !near(elapsed, 7*paceInterval) {
		t.Errorf("elapsed = %v, want %v", elapsed, 7*paceInterval)
	}
}

func TestPacing_GroupUsesLearnedDirectory(t *testing.T) {
	clk := newFakeClock()
	mux := http.NewServeMux()
	users := &pagedUsers{clk: clk, nPages: 1, times: map[string][]time.Time{}}
	mux.Handle("/directory_users", users)
	mux.HandleFunc("/directory_groups/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":%q,"directory_id":"directory_1","name":"G"}`, r.PathValue("id"))
	})
	c, _ := newTestClient(t, mux, func(c *Config) { c.Now, c.Sleep = clk.Now, clk.Sleep; c.UsersRatePerDirectory = 4 })
	ctx := context.Background()
	if got := c.usersPaceKey(ListUsersOptions{Group: "directory_group_7"}); got != "group:directory_group_7" {
		t.Errorf("unknown group key = %q", got)
	}
	if _, err := c.GetGroup(ctx, "directory_group_7"); err != nil {
		t.Fatal(err)
	}
	if got := c.usersPaceKey(ListUsersOptions{Group: "directory_group_7"}); got != "directory_1" {
		t.Errorf("learned group key = %q", got)
	}
	// Directory and group requests now share directory_1's bucket.
	start := clk.Now()
	if _, err := c.ListUsers(ctx, ListUsersOptions{Directory: "directory_1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListUsers(ctx, ListUsersOptions{Group: "directory_group_7"}); err != nil {
		t.Fatal(err)
	}
	if elapsed := clk.Now().Sub(start); !near(elapsed, paceInterval) {
		t.Errorf("elapsed = %v, want %v (one shared bucket)", elapsed, paceInterval)
	}
}

func TestPacing_KeyBudget(t *testing.T) {
	clk := newFakeClock()
	var mu sync.Mutex
	var ts []time.Time
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ts = append(ts, clk.Now())
		mu.Unlock()
		_, _ = w.Write([]byte(`{"data":[],"list_metadata":{"before":null,"after":null}}`))
	})
	c, _ := newTestClient(t, h, func(c *Config) { c.Now, c.Sleep = clk.Now, clk.Sleep; c.KeyRequestsPerMinute = 120 })
	for range 360 {
		if _, err := c.ListGroups(context.Background(), ListGroupsOptions{Directory: "directory_1"}); err != nil {
			t.Fatal(err)
		}
	}
	got := maxInWindow(ts, time.Minute)
	if got > 120 {
		t.Errorf("max requests in a 60 s window = %d, want ≤ 120", got)
	}
	if got < 118 {
		t.Errorf("max requests in a 60 s window = %d: budget not used", got)
	}
}

func TestPacing_Disabled(t *testing.T) {
	clk := newFakeClock()
	srv := &pagedUsers{clk: clk, nPages: 1, times: map[string][]time.Time{}}
	c, _ := newTestClient(t, srv, func(c *Config) { c.Now, c.Sleep = clk.Now, clk.Sleep })
	for range 50 {
		if _, err := c.ListUsers(context.Background(), ListUsersOptions{Directory: "d"}); err != nil {
			t.Fatal(err)
		}
	}
	if s := clk.Sleeps(); len(s) != 0 {
		t.Errorf("sleeps with pacing disabled: %v", s)
	}
}

func TestPacing_CancelWhileWaiting(t *testing.T) {
	clk := newFakeClock()
	p := newPacer(4, -1, clk.Now, func(ctx context.Context, d time.Duration) error { return context.Canceled })
	ctx := context.Background()
	if err := p.wait(ctx, "d"); err != nil { // takes the only token
		t.Fatal(err)
	}
	if err := p.wait(ctx, "d"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// The cancelled reservation was handed back: the next request waits one
	// interval, not two.
	r := p.limiter("d").ReserveN(clk.Now(), 1)
	if d := r.DelayFrom(clk.Now()); !near(d, paceInterval) {
		t.Errorf("delay after cancel = %v, want %v", d, paceInterval)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.wait(cctx, "d"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
}

// paceInterval is the spacing of /directory_users requests of one directory
// at the default 4 per second, with the safety margin.
var paceInterval = func() time.Duration {
	perSecond := 4 * paceMargin
	return time.Duration(float64(time.Second) / perSecond)
}()

// near compares paced durations, which float rounding may leave a few
// nanoseconds apart.
func near(a, b time.Duration) bool { return (a - b).Abs() < time.Microsecond }
