package onboarding

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
)

// testSandbox is a sandbox served over loopback, counting 429 answers.
type testSandbox struct {
	sb   *sandbox.Sandbox
	srv  *httptest.Server
	n429 atomic.Int64
}

func startSandbox(t testing.TB, o sandbox.Options) *testSandbox {
	t.Helper()
	sb, err := sandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testSandbox{sb: sb}
	h := sb.Handler()
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			ts.n429.Add(1)
		}
	}))
	t.Cleanup(func() {
		ts.srv.Close()
		sb.Close()
	})
	return ts
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// control calls a /_sandbox control endpoint and decodes the answer into out.
func (ts *testSandbox) control(t testing.TB, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ts.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (ts *testSandbox) scenario(t testing.TB, name, dirID string, count int, mode string) {
	t.Helper()
	ts.control(t, http.MethodPost, "/_sandbox/scenarios/"+name,
		map[string]any{"directory_id": dirID, "count": count, "mode": mode}, nil)
}

func (ts *testSandbox) setFaults(t testing.TB, f map[string]any) {
	t.Helper()
	ts.control(t, http.MethodPut, "/_sandbox/faults", f, nil)
}

// fastSleep keeps the client's backoff and pacing short in tests that are
// about convergence, not timing.
func fastSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(min(d, 5*time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func openTestDB(t testing.TB, path string) *db.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "roster.db")
	}
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestSyncer wires a Syncer to the sandbox. Pacing is off and retries are
// fast unless cfg says otherwise.
func newTestSyncer(t testing.TB, ts *testSandbox, store *db.DB, cfg *dirsync.Config) *Syncer {
	t.Helper()
	c := dirsync.Config{BaseURL: ts.srv.URL, APIKey: sandbox.DefaultAPIKey, UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1, Sleep: fastSleep,
		MaxAttempts: 4, RequestTimeout: 10 * time.Second}
	if cfg != nil {
		c = *cfg
		c.BaseURL, c.APIKey = ts.srv.URL, sandbox.DefaultAPIKey
	}
	return NewSyncer(store, dirsync.New(c), quietLog())
}

// syncUntil runs SyncOnce until it succeeds (faults may make single runs
// fail), at most tries times.
func syncUntil(t testing.TB, s *Syncer, tries int) {
	t.Helper()
	var err error
	for range tries {
		if err = s.SyncOnce(context.Background()); err == nil {
			return
		}
	}
	t.Fatalf("sync did not succeed in %d tries: %v", tries, err)
}

// diffReplica compares the replica of every sandbox directory with the
// sandbox's state and returns the differences (none when equal).
func diffReplica(t testing.TB, store *db.DB, st sandbox.State) []string {
	t.Helper()
	ctx := context.Background()
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < 20 {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	for _, dir := range st.Directories {
		snap, err := store.Snapshot(ctx, dir.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Users, with every attribute the replica keeps.
		want := map[string]sandbox.DirectoryUser{}
		for _, u := range st.Users {
			if u.DirectoryID == dir.ID {
				want[u.ID] = u
			}
		}
		got := map[string]db.DirectoryUser{}
		for _, u := range snap.Users {
			got[u.ID] = u
		}
		for id, w := range want {
			g, ok := got[id]
			if !ok {
				add("%s: user %s missing", dir.ID, id)
				continue
			}
			if d := userDiffs(w, g); d != "" {
				add("%s: user %s: %s", dir.ID, id, d)
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				add("%s: user %s should not be there", dir.ID, id)
			}
		}
		// Groups.
		wantG := map[string]string{}
		for _, g := range st.Groups {
			if g.DirectoryID == dir.ID {
				wantG[g.ID] = g.Name + "|" + g.IdpID
			}
		}
		gotG := map[string]string{}
		for _, g := range snap.Groups {
			gotG[g.ID] = g.Name + "|" + g.IdpID
		}
		for id, w := range wantG {
			if gotG[id] != w {
				add("%s: group %s = %q, want %q", dir.ID, id, gotG[id], w)
			}
		}
		for id := range gotG {
			if _, ok := wantG[id]; !ok {
				add("%s: group %s should not be there", dir.ID, id)
			}
		}
		// Memberships.
		var wantM, gotM []string
		for _, m := range st.Memberships {
			if _, ok := wantG[m.GroupID]; ok {
				wantM = append(wantM, m.GroupID+"/"+m.UserID)
			}
		}
		for _, m := range snap.Memberships {
			gotM = append(gotM, m.GroupID+"/"+m.UserID)
			if u, ok := got[m.UserID]; ok && m.UserSortKey != db.UserSortKey(u.FirstName, u.LastName, u.Name, u.Email) {
				add("%s: membership %s/%s has a stale sort key", dir.ID, m.GroupID, m.UserID)
			}
		}
		slices.Sort(wantM)
		slices.Sort(gotM)
		if !slices.Equal(wantM, gotM) {
			add("%s: memberships differ: %d in replica, %d in sandbox (first diff %s)", dir.ID, len(gotM), len(wantM), firstDiff(gotM, wantM))
		}
	}
	return diffs
}

func firstDiff(a, b []string) string {
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			return "missing " + b[i]
		case i >= len(b):
			return "extra " + a[i]
		case a[i] != b[i]:
			return a[i] + " vs " + b[i]
		}
	}
	return ""
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func userDiffs(w sandbox.DirectoryUser, g db.DirectoryUser) string {
	var out []string
	check := func(name, want, got string) {
		if want != got {
			out = append(out, fmt.Sprintf("%s = %q, want %q", name, got, want))
		}
	}
	check("email", str(w.Email), g.Email)
	check("first_name", str(w.FirstName), g.FirstName)
	check("last_name", str(w.LastName), g.LastName)
	check("name", str(w.Name), g.Name)
	check("state", w.State, g.State)
	check("idp_id", w.IdpID, g.IdpID)
	role := ""
	if w.Role != nil {
		role = w.Role.Slug
	}
	check("role", role, g.Role)
	wantCustom, _ := json.Marshal(w.CustomAttributes)
	if len(w.CustomAttributes) == 0 {
		wantCustom = []byte("{}")
	}
	check("custom_attributes", string(wantCustom), canon(g.CustomAttributes))
	if jt, ok := w.CustomAttributes["job_title"].(string); ok && str(w.JobTitle) == "" {
		check("job_title", jt, g.JobTitle)
	}
	if dep, ok := w.CustomAttributes["department"].(string); ok {
		check("department", dep, g.Department)
	}
	wu, _ := time.Parse(time.RFC3339Nano, w.UpdatedAt)
	check("updated_at", wu.UTC().Format(time.RFC3339Nano), g.UpdatedAt.UTC().Format(time.RFC3339Nano))
	return strings.Join(out, "; ")
}

func canon(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func requireEqual(t testing.TB, store *db.DB, ts *testSandbox) {
	t.Helper()
	if diffs := diffReplica(t, store, ts.sb.State()); len(diffs) > 0 {
		t.Fatalf("replica differs from the sandbox:\n%s", strings.Join(diffs, "\n"))
	}
}
