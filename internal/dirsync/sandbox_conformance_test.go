package dirsync_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
)

// The client against the sandbox: two independent implementations of the
// wire format that must agree (the official SDK and spec judge each of
// them elsewhere).

type countingTransport struct {
	base                  http.RoundTripper
	requests, tooMany, e5 atomic.Int64
	users                 atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	if r.URL.Path == "/directory_users" {
		c.users.Add(1)
	}
	resp, err := c.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		c.tooMany.Add(1)
	}
	if err == nil && resp.StatusCode >= 500 {
		c.e5.Add(1)
	}
	return resp, err
}

func startSandbox(t *testing.T, o sandbox.Options) (*sandbox.Sandbox, string) {
	t.Helper()
	if o.Preset == "" {
		o.Preset = "demo"
	}
	sb, err := sandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	return sb, ts.URL
}

func newClient(url string, ct *countingTransport, cfg dirsync.Config) *dirsync.Client {
	cfg.BaseURL, cfg.APIKey = url, "sk_test_sandbox"
	if ct != nil {
		cfg.HTTPClient = &http.Client{Transport: ct}
	}
	return dirsync.New(cfg)
}

func TestClientAgainstSandbox(t *testing.T) {
	sb, url := startSandbox(t, sandbox.Options{Seed: 3})
	st := sb.State()
	ctx := context.Background()
	c := newClient(url, nil, dirsync.Config{UsersRatePerDirectory: -1})

	var dirs []dirsync.Directory
	for d, err := range c.AllDirectories(ctx, dirsync.ListDirectoriesOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	if len(dirs) != len(st.Directories) || len(dirs) != 3 {
		t.Fatalf("%d directories, state has %d", len(dirs), len(st.Directories))
	}
	for _, d := range dirs {
		got, err := c.GetDirectory(ctx, d.ID)
		if err != nil || got.Name != d.Name || !got.Linked() || got.CreatedAt.IsZero() {
			t.Errorf("GetDirectory(%s) = %+v, %v", d.ID, got, err)
		}
	}

	// Every user of every directory, all unique, attributes as the state has them.
	byID := map[string]sandbox.DirectoryUser{}
	for _, u := range st.Users {
		byID[u.ID] = u
	}
	for _, d := range st.Directories {
		seen := map[string]bool{}
		for u, err := range c.AllUsers(ctx, dirsync.ListUsersOptions{Directory: d.ID}) {
			if err != nil {
				t.Fatal(err)
			}
			if seen[u.ID] {
				t.Fatalf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
			want := byID[u.ID]
			if want.ID == "" || u.DirectoryID != d.ID || u.State != want.State || (want.Email == nil) != (u.Email == "") {
				t.Fatalf("user %s = %+v, state has %+v", u.ID, u, want)
			}
			if want.Email != nil && *want.Email != u.Email {
				t.Fatalf("email %q, want %q", u.Email, *want.Email)
			}
		}
		n := 0
		for _, u := range st.Users {
			if u.DirectoryID == d.ID {
				n++
			}
		}
		if len(seen) != n {
			t.Errorf("directory %s: %d users listed, state has %d", d.Name, len(seen), n)
		}
	}

	// Members of a group, and a user's groups, match the memberships.
	members := map[string][]string{}
	groupsOf := map[string][]string{}
	for _, m := range st.Memberships {
		members[m.GroupID] = append(members[m.GroupID], m.UserID)
		groupsOf[m.UserID] = append(groupsOf[m.UserID], m.GroupID)
	}
	var big string
	for g, ms := range members {
		if big == "" || len(ms) > len(members[big]) {
			big = g
		}
	}
	var got []string
	for u, err := range c.AllUsers(ctx, dirsync.ListUsersOptions{Group: big}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u.ID)
	}
	if !sameSet(got, members[big]) {
		t.Errorf("members of %s: %d listed, %d in state", big, len(got), len(members[big]))
	}
	var user string
	for u, gs := range groupsOf {
		if len(gs) > 1 {
			user = u
			break
		}
	}
	got = nil
	for g, err := range c.AllGroups(ctx, dirsync.ListGroupsOptions{User: user}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, g.ID)
	}
	if !sameSet(got, groupsOf[user]) {
		t.Errorf("groups of %s: %v, state has %v", user, got, groupsOf[user])
	}
	if g, err := c.GetGroup(ctx, big); err != nil || g.ID != big || g.Name == "" {
		t.Errorf("GetGroup = %+v, %v", g, err)
	}
	if u, err := c.GetUser(ctx, user); err != nil || u.ID != user {
		t.Errorf("GetUser = %+v, %v", u, err)
	}

	// Paging backwards returns the same pages.
	p1, err := c.ListUsers(ctx, dirsync.ListUsersOptions{Directory: dirs[0].ID, ListOptions: dirsync.ListOptions{Limit: 7}})
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := c.ListUsers(ctx, dirsync.ListUsersOptions{Directory: dirs[0].ID, ListOptions: dirsync.ListOptions{Limit: 7, After: p1.After}})
	back, _ := c.ListUsers(ctx, dirsync.ListUsersOptions{Directory: dirs[0].ID, ListOptions: dirsync.ListOptions{Limit: 7, Before: p2.Before}})
	if len(back.Data) != len(p1.Data) || back.Data[0].ID != p1.Data[0].ID || back.Data[6].ID != p1.Data[6].ID {
		t.Errorf("before= the second page's cursor does not return the first page")
	}

	// Unknown ids and a rejected key come back as typed errors.
	_, err = c.GetUser(ctx, "directory_user_01NOPE")
	var ae *dirsync.APIError
	if !errors.Is(err, dirsync.ErrNotFound) || !errors.As(err, &ae) || ae.EntityID != "directory_user_01NOPE" || ae.RequestID == "" {
		t.Errorf("unknown user: %v (%+v)", err, ae)
	}
	bad := dirsync.New(dirsync.Config{BaseURL: url, APIKey: "sk_test_wrong"})
	if _, err := bad.ListDirectories(ctx, dirsync.ListDirectoriesOptions{}); !errors.Is(err, dirsync.ErrUnauthorized) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := c.ListUsers(ctx, dirsync.ListUsersOptions{}); !errors.Is(err, dirsync.ErrValidation) || !errors.As(err, &ae) || len(ae.FieldErrors) != 2 {
		t.Errorf("unscoped users: %v", err)
	}

	// Events, paged with after, oldest first, every one decodable.
	var last string
	total := 0
	for {
		page, err := c.ListEvents(ctx, dirsync.ListEventsOptions{After: last, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Data) == 0 {
			break
		}
		for _, ev := range page.Data {
			if ev.ID <= last {
				t.Fatalf("event %s after %s: not in order", ev.ID, last)
			}
			if _, err := ev.Decode(); err != nil {
				t.Fatalf("decode %s %s: %v", ev.Event, ev.ID, err)
			}
			last = ev.ID
			total++
		}
	}
	if total < len(st.Users) {
		t.Errorf("%d events, fewer than the %d users' dsync.user.created", total, len(st.Users))
	}
}

func TestClientAgainstSandbox_Faults(t *testing.T) {
	sb, url := startSandbox(t, sandbox.Options{Seed: 4, ErrorRate: 0.3, DropRate: 0.2})
	st := sb.State()
	ct := &countingTransport{base: http.DefaultTransport}
	var slept atomic.Int64
	c := newClient(url, ct, dirsync.Config{UsersRatePerDirectory: -1, MaxAttempts: 25,
		Sleep: func(ctx context.Context, d time.Duration) error { slept.Add(int64(d)); return ctx.Err() }})
	entra := st.Directories[0].ID
	want := 0
	for _, d := range st.Directories {
		if d.Type == "azure scim v2.0" {
			entra = d.ID
		}
	}
	for _, u := range st.Users {
		if u.DirectoryID == entra {
			want++
		}
	}
	seen := map[string]bool{}
	for u, err := range c.AllUsers(context.Background(), dirsync.ListUsersOptions{Directory: entra}) {
		if err != nil {
			t.Fatalf("walk with 30%% errors and 20%% dropped connections: %v", err)
		}
		seen[u.ID] = true
	}
	if len(seen) != want {
		t.Fatalf("%d users, want %d", len(seen), want)
	}
	if pages := int64((want + 99) / 100); ct.requests.Load() <= pages {
		t.Errorf("no faults were injected (%d requests, %d 5xx): the test proves nothing", ct.requests.Load(), ct.e5.Load())
	}
}

func TestClientAgainstSandbox_RateLimitNoStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds of real pacing")
	}
	sb, url := startSandbox(t, sandbox.Options{Seed: 5, RateLimit: true})
	st := sb.State()
	ct := &countingTransport{base: http.DefaultTransport}
	c := newClient(url, ct, dirsync.Config{}) // default pacing: 4 requests/s per directory
	var entra string
	for _, d := range st.Directories {
		if d.Type == "azure scim v2.0" {
			entra = d.ID
		}
	}
	n := 0
	for _, err := range c.AllUsers(context.Background(), dirsync.ListUsersOptions{Directory: entra}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 || ct.users.Load() < 10 {
		t.Fatalf("walked %d users in %d requests: too small to test pacing", n, ct.users.Load())
	}
	// One refusal can come from scheduling jitter on a busy machine (the
	// pacing keeps a 3% margin); a storm means the pacing is wrong.
	if ct.tooMany.Load() > 1 {
		t.Errorf("the sandbox answered 429 %d times: the client's pacing let requests through too fast", ct.tooMany.Load())
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
