package sandbox

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// npmDir is the shared pinned npm folder (tests/npm) seen from this package.
const npmDir = "../../../tests/npm"

// requireNPM skips when the pinned npm packages are not installed, except
// in CI (CI=true), where their absence is a failure.
func requireNPM(t *testing.T, path string) string {
	t.Helper()
	full := filepath.Join(npmDir, "node_modules", path)
	if _, err := os.Stat(full); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (run npm ci in tests/npm): %v", full, err)
		}
		t.Skipf("%s not installed; run npm ci in tests/npm", full)
	}
	return full
}

type sdkOutput struct {
	Directories []struct {
		ID, Name, Type, State, OrganizationID string
	} `json:"directories"`
	Directory struct {
		ID, Name, State, Domain, CreatedAt string
	} `json:"directory"`
	EntraUsers struct {
		Count, Unique int
		IDs           []string `json:"ids"`
	} `json:"entraUsers"`
	FirstGroupUsers struct {
		GroupID string   `json:"groupId"`
		IDs     []string `json:"ids"`
	} `json:"firstGroupUsers"`
	UserGroups struct {
		UserID string   `json:"userId"`
		IDs    []string `json:"ids"`
	} `json:"userGroups"`
	User struct {
		ID, Email, FirstName, State, DirectoryID string
		CustomAttributes                         map[string]any
		Groups                                   []any
	} `json:"user"`
	Group struct {
		ID, Name, DirectoryID string
	} `json:"group"`
	NotFound     map[string]sdkError `json:"notFound"`
	Unauthorized sdkError            `json:"unauthorized"`
	Events       struct {
		Pages, Count, Unique int
		Sorted               bool
	} `json:"events"`
	Webhooks []struct {
		OK               bool   `json:"ok"`
		ID               string `json:"id"`
		Event            string `json:"event"`
		JobTitle         string `json:"jobTitle"`
		Error            string `json:"error"`
		TamperedAccepted *bool  `json:"tamperedAccepted"`
	} `json:"webhooks"`
	Organizations struct {
		ID, Name    string
		Domains     []struct{ Domain, State string }
		FetchedName string   `json:"fetchedName"`
		UpdatedName string   `json:"updatedName"`
		ListedIDs   []string `json:"listedIds"`
		ByDomain    []string `json:"byDomain"`
		Missing     sdkError `json:"missing"`
	} `json:"organizations"`
	Portal struct {
		Link       string   `json:"link"`
		UnknownOrg sdkError `json:"unknownOrg"`
	} `json:"portal"`
}

type sdkError struct {
	Name           string `json:"name"`
	IsNotFound     bool   `json:"isNotFound"`
	IsUnauthorized bool   `json:"isUnauthorized"`
	Status         int    `json:"status"`
	Message        string `json:"message"`
	Error          string `json:"error"`
}

// TestConformance_NodeSDK runs the official Node SDK (@workos-inc/node,
// pinned in tests/npm) against the sandbox.
func TestConformance_NodeSDK(t *testing.T) {
	requireNPM(t, "@workos-inc/node/package.json")
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed")
		}
		t.Skip("node is not installed")
	}
	rc, rsrv := newReceiver(t)
	const secret = "whsec_conformance"
	// Real clock: the SDK checks webhook timestamps against Date.now().
	sb, err := New(Options{Preset: PresetDemo, WebhookURL: rsrv.URL, WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); _ = sb.Close() })
	h := &harness{t: t, sb: sb, srv: srv}
	st := sb.State()
	okta := dirByType(t, st, typeOkta)
	g := groupsOfDir(st, okta)[0]
	u := decode[userJSON](t, h.control("POST", "/_sandbox/directories/"+okta+"/users",
		`{"first_name":"Zoë","last_name":"O'Brien","job_title":"<script>alert(1)</script>","department":"R&D","group_ids":["`+g+`"]}`, 201))
	h.control("PATCH", "/_sandbox/users/"+u.ID, `{"job_title":"Café ☕ & <b>bold</b>","location":"\u2028"}`, 200)
	rc.wait(t, 3)

	rc.mu.Lock()
	var deliveries []map[string]string
	for i, b := range rc.bodies {
		deliveries = append(deliveries, map[string]string{"body": string(b), "signature": rc.sigs[i]})
	}
	rc.mu.Unlock()
	hookFile := filepath.Join(t.TempDir(), "webhooks.json")
	hb, _ := json.Marshal(deliveries)
	if err := os.WriteFile(hookFile, hb, 0o600); err != nil {
		t.Fatal(err)
	}

	// A mid-sized Entra group for the by-group and by-user listings.
	count := map[string]int{}
	for _, m := range st.Memberships {
		count[m.GroupID]++
	}
	groupID := ""
	for _, gid := range groupsOfDir(st, dirByType(t, st, typeEntra)) {
		if count[gid] >= 20 && count[gid] <= 300 {
			groupID = gid
			break
		}
	}
	out := runSDK(t, node, srv.URL, map[string]string{
		"WEBHOOK_SECRET": secret, "WEBHOOK_FILE": hookFile, "ENTRA_DIRECTORY": dirByType(t, st, typeEntra), "GROUP_ID": groupID,
		"CONFORMANCE_ORGS": "1",
	})
	st = sb.State()

	// Directories.
	if len(out.Directories) != len(st.Directories) {
		t.Fatalf("SDK listed %d directories, state has %d", len(out.Directories), len(st.Directories))
	}
	for _, d := range out.Directories {
		// The SDK rewrites REST "linked" to "active".
		if d.State != "active" || d.OrganizationID == "" {
			t.Errorf("directory %+v", d)
		}
	}
	if out.Directory.ID != out.Directories[0].ID || out.Directory.CreatedAt == "" {
		t.Errorf("getDirectory = %+v", out.Directory)
	}
	// All Entra users, auto-paginated, unique, matching the state.
	entra := dirByType(t, st, typeEntra)
	var want []string
	for _, su := range st.Users {
		if su.DirectoryID == entra {
			want = append(want, su.ID)
		}
	}
	got := slices.Clone(out.EntraUsers.IDs)
	slices.Sort(got)
	if out.EntraUsers.Count != len(want) || out.EntraUsers.Unique != len(want) || !slices.Equal(got, want) {
		t.Errorf("auto-paginated %d users (%d unique), state has %d", out.EntraUsers.Count, out.EntraUsers.Unique, len(want))
	}
	// Users by group and groups by user.
	members := map[string][]string{}
	groupsOf := map[string][]string{}
	for _, m := range st.Memberships {
		members[m.GroupID] = append(members[m.GroupID], m.UserID)
		groupsOf[m.UserID] = append(groupsOf[m.UserID], m.GroupID)
	}
	if out.FirstGroupUsers.GroupID != groupID || !sameSet(out.FirstGroupUsers.IDs, members[groupID]) || len(out.FirstGroupUsers.IDs) == 0 {
		t.Errorf("users of group %s: %d, want %d", out.FirstGroupUsers.GroupID, len(out.FirstGroupUsers.IDs), len(members[out.FirstGroupUsers.GroupID]))
	}
	if !sameSet(out.UserGroups.IDs, groupsOf[out.UserGroups.UserID]) {
		t.Errorf("groups of user: %v, want %v", out.UserGroups.IDs, groupsOf[out.UserGroups.UserID])
	}
	if len(out.FirstGroupUsers.IDs) == 0 || out.User.ID != out.FirstGroupUsers.IDs[0] || out.User.DirectoryID != entra || out.User.CustomAttributes["department"] == nil || len(out.User.Groups) != 0 {
		t.Errorf("getUser = %+v", out.User)
	}
	if out.Group.ID != out.FirstGroupUsers.GroupID || out.Group.Name == "" {
		t.Errorf("getGroup = %+v", out.Group)
	}
	for _, k := range []string{"user", "group", "directory"} {
		if e := out.NotFound[k]; !e.IsNotFound || e.Status != 404 {
			t.Errorf("unknown %s: %+v, want NotFoundException", k, e)
		}
	}
	if !out.Unauthorized.IsUnauthorized {
		t.Errorf("wrong key: %+v, want UnauthorizedException", out.Unauthorized)
	}
	// Events paged with after.
	wantEvents := len(st.Users) + len(st.Groups) // no user or group was deleted
	if out.Events.Count != wantEvents || out.Events.Unique != wantEvents || !out.Events.Sorted || out.Events.Pages < 2 {
		t.Errorf("events = %+v, want %d", out.Events, wantEvents)
	}
	// Webhooks verified by constructEvent, the <script> title included.
	if len(out.Webhooks) != 4 {
		t.Fatalf("webhooks = %+v", out.Webhooks)
	}
	for i, w := range out.Webhooks[:3] {
		if !w.OK {
			t.Errorf("webhook %d refused by the SDK: %s", i, w.Error)
		}
	}
	if out.Webhooks[0].Event != "dsync.user.created" || out.Webhooks[0].JobTitle != "<script>alert(1)</script>" {
		t.Errorf("first webhook = %+v", out.Webhooks[0])
	}
	if out.Webhooks[3].TamperedAccepted == nil || *out.Webhooks[3].TamperedAccepted {
		t.Errorf("a tampered webhook was accepted")
	}

	// Organizations and the admin portal (issue 9).
	o := out.Organizations
	if !strings.HasPrefix(o.ID, "org_") || o.Name != "Conformance Co" || len(o.Domains) != 1 || o.Domains[0].Domain != "conformance.example" ||
		o.Domains[0].State != "verified" || o.FetchedName != "Conformance Co" || o.UpdatedName != "Conformance Company" {
		t.Errorf("organizations = %+v", o)
	}
	if len(o.ListedIDs) != len(st.Organizations) || !slices.Contains(o.ListedIDs, o.ID) || !slices.Equal(o.ByDomain, []string{o.ID}) {
		t.Errorf("listed %v, by domain %v", o.ListedIDs, o.ByDomain)
	}
	if !o.Missing.IsNotFound {
		t.Errorf("unknown organisation: %+v", o.Missing)
	}
	if !strings.HasPrefix(out.Portal.Link, srv.URL+"/_sandbox/portal/") {
		t.Errorf("portal link %q", out.Portal.Link)
	}
	if !out.Portal.UnknownOrg.IsNotFound {
		t.Errorf("portal link for an unknown organisation: %+v", out.Portal.UnknownOrg)
	}
	// The link works once.
	res, err := srv.Client().Get(out.Portal.Link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Request.URL.Path, "/_sandbox/portal/s/") {
		t.Errorf("opening the link: %d %s", res.StatusCode, res.Request.URL)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// runSDK runs tests/conformance/sdk.mjs against baseURL.
func runSDK(t *testing.T, node, baseURL string, env map[string]string) sdkOutput {
	t.Helper()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "../../../tests/conformance/sdk.mjs")
	cmd.Env = append(os.Environ(), "SANDBOX_PORT="+port, "SANDBOX_API_KEY="+DefaultAPIKey)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sdk.mjs: %v\n%s", err, stderr.String())
	}
	var out sdkOutput
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("sdk.mjs output: %v\n%s", err, b)
	}
	// Any step that threw is reported as {"error": …}.
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw)
	for k, v := range raw {
		if strings.HasPrefix(string(v), `{"error":`) {
			t.Errorf("SDK step %s failed: %s", k, v)
		}
	}
	return out
}
