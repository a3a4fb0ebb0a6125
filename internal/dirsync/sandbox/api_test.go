package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAuth_RejectsMissingOrWrongKey(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/directories", "", false)
	if r.status != 401 || string(r.body) != `{"message":"Unauthorized"}` {
		t.Fatalf("no key: got %d %s", r.status, r.body)
	}
	// A wrong key and a key without "Bearer " are refused too.
	for _, auth := range []string{"Bearer nope", DefaultAPIKey, "bearer " + DefaultAPIKey} {
		r := doWithAuth(t, h, "/directories", auth)
		if r.status != 401 {
			t.Errorf("Authorization %q: status %d, want 401", auth, r.status)
		}
		if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
			t.Errorf("401 content type %q", got)
		}
	}
}

func doWithAuth(t *testing.T, h *harness, path, auth string) resp {
	t.Helper()
	req, _ := newRequest("GET", h.srv.URL+path)
	req.Header.Set("Authorization", auth)
	res, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return resp{status: res.StatusCode, header: res.Header}
}

func TestRequestID_OnEveryResponse(t *testing.T) {
	h := newHarness(t, Options{})
	seen := map[string]bool{}
	for _, c := range []struct {
		method, path string
		auth         bool
	}{
		{"GET", "/directories", true}, {"GET", "/directories", false}, {"GET", "/directories/nope", true},
		{"GET", "/directory_users", true}, {"GET", "/events", true}, {"GET", "/nowhere", true},
		{"GET", "/_sandbox/state", false}, {"GET", "/_sandbox/", false}, {"DELETE", "/_sandbox/users/x", false},
	} {
		r := h.do(c.method, c.path, "", c.auth)
		id := r.header.Get("X-Request-Id")
		if id == "" {
			t.Errorf("%s %s: no X-Request-Id", c.method, c.path)
		}
		if seen[id] {
			t.Errorf("%s %s: X-Request-Id %s repeated", c.method, c.path, id)
		}
		seen[id] = true
	}
}

func TestList_EnvelopeAndLimits(t *testing.T) {
	h := newHarness(t, Options{Preset: PresetDemo})
	st := h.sb.State()
	entra := dirByType(t, st, typeEntra)
	page := decode[idList](t, h.get("/directory_users?directory="+entra, 200))
	if page.Object != "list" || len(page.Data) != 10 {
		t.Fatalf("default page: object %q, %d items; want list, 10", page.Object, len(page.Data))
	}
	if page.ListMetadata.Before != nil || page.ListMetadata.After == nil || *page.ListMetadata.After != page.Data[9].ID {
		t.Errorf("first page metadata = %+v", page.ListMetadata)
	}
	page = decode[idList](t, h.get("/directory_users?limit=100&directory="+entra, 200))
	if len(page.Data) != 100 {
		t.Errorf("limit=100: %d items", len(page.Data))
	}
	for _, bad := range []string{"0", "101", "-1", "ten"} {
		body := h.get("/directory_users?directory="+entra+"&limit="+bad, 422)
		if !strings.Contains(string(body), `"field":"limit"`) {
			t.Errorf("limit=%s: body %s", bad, body)
		}
	}
	body := h.get("/directory_groups?directory="+entra+"&order=sideways", 422)
	if !strings.Contains(string(body), `"field":"order"`) {
		t.Errorf("bad order body %s", body)
	}
	// Directories need no filter; the demo has three, newest first.
	dirs := decode[idList](t, h.get("/directories", 200))
	if len(dirs.Data) != 3 || dirs.Data[0].ID < dirs.Data[2].ID {
		t.Errorf("directories = %v", dirs.ids())
	}
}

func dirByType(t *testing.T, st State, typ string) string {
	t.Helper()
	for _, d := range st.Directories {
		if d.Type == typ {
			return d.ID
		}
	}
	t.Fatalf("no %s directory", typ)
	return ""
}

// walk follows the forward cursor of an order from the first page to the
// end, then the backward cursor back, and checks both walks see the same
// pages.
func TestPaging_ForwardThenBackward(t *testing.T) {
	h := newHarness(t, Options{Preset: PresetDemo})
	st := h.sb.State()
	okta := dirByType(t, st, typeOkta)
	var all []string
	for _, u := range st.Users {
		if u.DirectoryID == okta {
			all = append(all, u.ID)
		}
	}
	slices.Sort(all) // ascending ids = creation order
	desc := slices.Clone(all)
	slices.Reverse(desc)
	for _, tc := range []struct {
		order         string
		want          []string
		fwd, bwd      string // query parameter that moves forward / backward
		fwdMeta, back func(listMeta) *string
	}{
		{"desc", desc, "after", "before", func(m listMeta) *string { return m.After }, func(m listMeta) *string { return m.Before }},
		{"asc", all, "after", "before", func(m listMeta) *string { return m.After }, func(m listMeta) *string { return m.Before }},
		{"normal", desc, "before", "after", func(m listMeta) *string { return m.Before }, func(m listMeta) *string { return m.After }},
	} {
		t.Run(tc.order, func(t *testing.T) {
			base := "/directory_users?directory=" + okta + "&limit=7&order=" + tc.order
			var pages [][]string
			cursor := ""
			for {
				path := base
				if cursor != "" {
					path += "&" + tc.fwd + "=" + cursor
				}
				p := decode[idList](t, h.get(path, 200))
				pages = append(pages, p.ids())
				if len(pages) == 1 && tc.back(p.ListMetadata) != nil {
					t.Fatalf("first page has a backward cursor")
				}
				next := tc.fwdMeta(p.ListMetadata)
				if next == nil {
					break
				}
				if *next != p.Data[len(p.Data)-1].ID {
					t.Fatalf("forward cursor %s is not the last item", *next)
				}
				cursor = *next
			}
			if got := slices.Concat(pages...); !slices.Equal(got, tc.want) {
				t.Fatalf("forward walk: %d ids, want %d in order", len(got), len(tc.want))
			}
			// Backward from the last page: each page must equal the one before it.
			last := pages[len(pages)-1]
			cursor = last[0]
			for i := len(pages) - 2; i >= 0; i-- {
				p := decode[idList](t, h.get(base+"&"+tc.bwd+"="+cursor, 200))
				if !slices.Equal(p.ids(), pages[i]) {
					t.Fatalf("backward page %d = %v, want %v", i, p.ids(), pages[i])
				}
				if i > 0 && (tc.back(p.ListMetadata) == nil || *tc.back(p.ListMetadata) != p.Data[0].ID) {
					t.Fatalf("backward page %d: backward cursor %v", i, tc.back(p.ListMetadata))
				}
				if i == 0 && tc.back(p.ListMetadata) != nil {
					t.Fatalf("first page reached backwards still has a backward cursor")
				}
				if f := tc.fwdMeta(p.ListMetadata); f == nil || *f != p.Data[len(p.Data)-1].ID {
					t.Fatalf("backward page %d: forward cursor %v", i, f)
				}
				cursor = p.Data[0].ID
			}
		})
	}
}

func TestPaging_LegacyNormalMatchesRecording(t *testing.T) {
	// Recorded 2021: GET /directories?limit=2 without order returned the
	// newest two with before = last id, after = null (order=normal today).
	h := newHarness(t, Options{Preset: PresetDemo})
	p := decode[idList](t, h.get("/directories?limit=2&order=normal", 200))
	if p.ListMetadata.After != nil || p.ListMetadata.Before == nil || *p.ListMetadata.Before != p.Data[1].ID {
		t.Errorf("normal first page metadata %+v, ids %v", p.ListMetadata, p.ids())
	}
	// A deleted cursor still marks its place.
	d0 := h.sb.State().Directories[0].ID
	users := decode[idList](t, h.get("/directory_users?limit=3&directory="+d0, 200))
	gone := users.Data[1].ID
	h.control("DELETE", "/_sandbox/users/"+gone, "", 200)
	next := decode[idList](t, h.get("/directory_users?limit=1&after="+gone+"&directory="+d0, 200))
	if next.Data[0].ID != users.Data[2].ID {
		t.Errorf("after a deleted cursor: got %s, want %s", next.Data[0].ID, users.Data[2].ID)
	}
}

func TestErrors_422And404Bodies(t *testing.T) {
	h := newHarness(t, Options{})
	cases := []struct{ path, want string }{
		{"/directory_users", `{"message":"Validation failed","errors":[{"field":"directory","code":"Please provide either \"directory\" or \"group\" parameters."},{"field":"group","code":"Please provide either \"directory\" or \"group\" parameters."}]}`},
		{"/directory_groups", `{"message":"Validation failed","errors":[{"field":"directory","code":"Please provide either \"directory\" or \"user\" parameters."},{"field":"user","code":"Please provide either \"directory\" or \"user\" parameters."}]}`},
	}
	for _, c := range cases {
		if got := string(h.get(c.path, 422)); got != c.want {
			t.Errorf("GET %s:\n got %s\nwant %s", c.path, got, c.want)
		}
	}
	h.get("/directory_users?group=x&idp_id=1", 422)
	for _, c := range []struct{ path, entity string }{
		{"/directories/x'y", "Directory"},
		{"/directory_users/directory_user_nope", "Directory User"},
		{"/directory_groups/directory_group_nope", "Directory Group"},
	} {
		id := c.path[strings.LastIndex(c.path, "/")+1:]
		want := fmt.Sprintf(`{"message":"%s not found: '%s'.","code":"entity_not_found","entity_id":"%s"}`, c.entity, id, id)
		if got := string(h.get(c.path, 404)); got != want {
			t.Errorf("GET %s:\n got %s\nwant %s", c.path, got, want)
		}
	}
	r := h.do("DELETE", "/directories/nope", "", true)
	if r.status != 404 {
		t.Errorf("DELETE unknown directory: %d", r.status)
	}
}

func TestDeleteDirectory_202CascadeAndEvent(t *testing.T) {
	h := newHarness(t, Options{Preset: PresetDemo})
	st := h.sb.State()
	d := dirByType(t, st, typeGoogle)
	mark := h.lastEventID()
	r := h.do("DELETE", "/directories/"+d, "", true)
	if r.status != 202 || string(r.body) != "Accepted" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("DELETE: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	h.get("/directories/"+d, 404)
	after := h.sb.State()
	for _, u := range after.Users {
		if u.DirectoryID == d {
			t.Fatalf("user %s of the deleted directory is still there", u.ID)
		}
	}
	for _, g := range after.Groups {
		if g.DirectoryID == d {
			t.Fatalf("group %s of the deleted directory is still there", g.ID)
		}
	}
	evs := h.eventsSince(mark)
	if len(evs) != 1 || evs[0].Event != "dsync.deleted" {
		t.Fatalf("events after delete = %v", names(evs))
	}
	data := decode[map[string]any](t, evs[0].Data)
	if data["state"] != "deleting" || data["id"] != d {
		t.Errorf("dsync.deleted data = %v", data)
	}
	if _, ok := data["external_key"]; ok {
		t.Errorf("dsync.deleted carries external_key")
	}
	h.get("/directory_users?directory="+d, 200) // empty list, not an error
}

func TestUsersAndGroups_Filters(t *testing.T) {
	h := newHarness(t, Options{Preset: PresetDemo})
	st := h.sb.State()
	members := map[string][]string{}
	groupsOf := map[string][]string{}
	for _, m := range st.Memberships {
		members[m.GroupID] = append(members[m.GroupID], m.UserID)
		groupsOf[m.UserID] = append(groupsOf[m.UserID], m.GroupID)
	}
	// The biggest group of the Google directory, paged through.
	g := ""
	for _, gr := range st.Groups {
		if gr.DirectoryID == dirByType(t, st, typeGoogle) && len(members[gr.ID]) > len(members[g]) {
			g = gr.ID
		}
	}
	got := collect(t, h, "/directory_users?group="+g)
	want := slices.Clone(members[g])
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("users of group: %d, want %d", len(got), len(want))
	}
	// Someone in many groups.
	u := ""
	for id, gs := range groupsOf {
		if len(gs) > len(groupsOf[u]) || (len(gs) == len(groupsOf[u]) && id < u) {
			u = id
		}
	}
	if len(groupsOf[u]) < 8 {
		t.Errorf("nobody is in many groups: max %d", len(groupsOf[u]))
	}
	got = collect(t, h, "/directory_groups?user="+u)
	want = slices.Clone(groupsOf[u])
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("groups of user: %v, want %v", got, want)
	}
	// idp_id and email filters with directory.
	var someone DirectoryUser
	for _, us := range st.Users {
		if us.Email != nil {
			someone = us
			break
		}
	}
	p := decode[idList](t, h.get("/directory_users?directory="+someone.DirectoryID+"&email="+url.QueryEscape(*someone.Email), 200))
	if len(p.Data) != 1 || p.Data[0].ID != someone.ID {
		t.Errorf("email filter: %v", p.ids())
	}
	p = decode[idList](t, h.get("/directory_users?directory="+someone.DirectoryID+"&idp_id="+url.QueryEscape(someone.IdpID), 200))
	if len(p.Data) != 1 || p.Data[0].ID != someone.ID {
		t.Errorf("idp_id filter: %v", p.ids())
	}
	// Directories: search and organization filters.
	p = decode[idList](t, h.get("/directories?search=OKTA", 200))
	if len(p.Data) != 1 || p.Data[0].ID != dirByType(t, st, typeOkta) {
		t.Errorf("search=OKTA: %v", p.ids())
	}
	p = decode[idList](t, h.get("/directories?organization_id="+st.Organizations[0].ID, 200))
	if len(p.Data) != 2 {
		t.Errorf("first org has %d directories, want 2", len(p.Data))
	}
}

// collect pages through a list with limit=100, order=desc.
func collect(t *testing.T, h *harness, path string) []string {
	t.Helper()
	var out []string
	after := ""
	for {
		p := path + "&limit=100"
		if after != "" {
			p += "&after=" + after
		}
		page := decode[idList](t, h.get(p, 200))
		out = append(out, page.ids()...)
		if page.ListMetadata.After == nil {
			return out
		}
		after = *page.ListMetadata.After
	}
}

func TestEvents_NamesEncodingsAndOrder(t *testing.T) {
	h := newHarness(t, Options{})
	for _, path := range []string{"/events", "/events?events=", "/events?limit=5"} {
		body := string(h.get(path, 400))
		want := `{"message":"One or more event names (e.g. dsync.user.created) must be provided using the events parameter.","code":"invalid_events_request"}`
		if body != want {
			t.Errorf("GET %s: %s", path, body)
		}
	}
	body := string(h.get("/events?events=dsync.user.created,user.nonsense", 400))
	if !strings.Contains(body, `'user.nonsense'`) || !strings.Contains(body, `"code":"invalid_events_request"`) {
		t.Errorf("unknown name: %s", body)
	}
	count := func(q string) (int, []eventJSON) {
		var all []eventJSON
		after := ""
		for {
			p := "/events?limit=100&" + q
			if after != "" {
				p += "&after=" + after
			}
			page := decode[eventList](t, h.get(p, 200))
			all = append(all, page.Data...)
			if page.ListMetadata.After == nil {
				return len(all), all
			}
			after = *page.ListMetadata.After
		}
	}
	n1, evs := count("events=dsync.group.created,dsync.user.created")
	n2, _ := count("events=dsync.group.created&events=dsync.user.created")
	n3, _ := count("events[]=dsync.group.created&events[]=dsync.user.created")
	st := h.sb.State()
	if want := len(st.Users) + len(st.Groups); n1 != want || n2 != want || n3 != want {
		t.Errorf("counts %d %d %d, want %d", n1, n2, n3, want)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID || evs[i].CreatedAt < evs[i-1].CreatedAt {
			t.Fatalf("events out of order at %d", i)
		}
		if evs[i].Object != "event" {
			t.Fatalf("event object %q", evs[i].Object)
		}
	}
	// order=desc is ignored, as on the live API.
	asc := decode[eventList](t, h.get("/events?limit=3&events=dsync.user.created", 200))
	desc := decode[eventList](t, h.get("/events?limit=3&order=desc&events=dsync.user.created", 200))
	if asc.Data[0].ID != desc.Data[0].ID {
		t.Errorf("order=desc changed the events order")
	}
	// The initial sync: activated, then groups, users, memberships.
	all := h.eventsSince("")
	if all[0].Event != "dsync.activated" {
		t.Errorf("first event %s", all[0].Event)
	}
	phase := map[string]int{"dsync.activated": 0, "dsync.group.created": 1, "dsync.user.created": 2, "dsync.group.user_added": 3}
	for i := 1; i < len(all); i++ {
		if phase[all[i].Event] < phase[all[i-1].Event] {
			t.Fatalf("initial sync out of phase at %d: %s after %s", i, all[i].Event, all[i-1].Event)
		}
	}
	if len(all) != 1+len(st.Groups)+len(st.Users)+len(st.Memberships) {
		t.Errorf("history has %d events, want %d", len(all), 1+len(st.Groups)+len(st.Users)+len(st.Memberships))
	}
}

func TestEvents_ThirtyDayWindowAndRange(t *testing.T) {
	h := newHarness(t, Options{})
	all := h.eventsSince("")
	if len(all) == 0 {
		t.Fatal("no events")
	}
	now := h.clock.Now()
	for _, e := range all {
		at, err := time.Parse(time.RFC3339, e.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if now.Sub(at) > 30*24*time.Hour || at.After(now) {
			t.Fatalf("seeded event %s at %s is outside the last 30 days", e.ID, e.CreatedAt)
		}
	}
	first, _ := time.Parse(time.RFC3339, all[0].CreatedAt)
	// Move the clock so that the oldest events fall out of the window.
	h.clock.Advance(30*24*time.Hour - now.Sub(first) + time.Hour)
	later := h.eventsSince("")
	if len(later) >= len(all) || len(later) == 0 {
		t.Errorf("after the window moved: %d events, before %d", len(later), len(all))
	}
	// range_start / range_end.
	mid := all[len(all)/2]
	p := decode[eventList](t, h.get("/events?limit=100&events="+allDsync+"&range_end="+url.QueryEscape(mid.CreatedAt), 200))
	for _, e := range p.Data {
		if e.CreatedAt > mid.CreatedAt {
			t.Fatalf("range_end: got event at %s", e.CreatedAt)
		}
	}
	h.get("/events?events=dsync.user.created&range_start=yesterday", 422)
}

func TestRateLimit_UsersPerDirectory(t *testing.T) {
	h := newHarness(t, Options{RateLimit: true})
	d := h.sb.State().Directories[0].ID
	for range 4 {
		h.get("/directory_users?directory="+d, 200)
	}
	r := h.do("GET", "/directory_users?directory="+d, "", true)
	if r.status != 429 || r.header.Get("Retry-After") != "1" || string(r.body) != `"Ratelimited"` {
		t.Fatalf("5th request: %d Retry-After %q body %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	// Other endpoints are not limited.
	h.get("/directory_groups?directory="+d, 200)
	h.clock.Advance(time.Second)
	h.get("/directory_users?directory="+d, 200)
	// Switched off through the control API.
	h.control("PUT", "/_sandbox/faults", `{"rate_limit":false}`, 200)
	for range 10 {
		h.get("/directory_users?directory="+d, 200)
	}
}

func TestFaults_ErrorRateAndDrops(t *testing.T) {
	h := newHarness(t, Options{})
	h.control("PUT", "/_sandbox/faults", `{"error_rate":1}`, 200)
	r := h.do("GET", "/directories", "", true)
	if r.status != 500 && r.status != 503 {
		t.Errorf("error_rate=1: status %d", r.status)
	}
	h.control("PUT", "/_sandbox/faults", `{"error_rate":0,"drop_rate":1}`, 200)
	req, _ := newRequest("GET", h.srv.URL+"/directories")
	req.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
	if res, err := h.srv.Client().Do(req); err == nil {
		res.Body.Close()
		t.Errorf("drop_rate=1: got a response %d", res.StatusCode)
	}
	h.control("PUT", "/_sandbox/faults", `{"drop_rate":0}`, 200)
	h.get("/directories", 200)
	h.control("PUT", "/_sandbox/faults", `{"error_rate":2}`, 422)
}

func TestFaults_LatencyHoldsTheResponse(t *testing.T) {
	h := newHarness(t, Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/directories", nil)
	req.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
	if res, err := h.srv.Client().Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("an hour of latency answered at once: %d", res.StatusCode)
	}
	if got := h.sb.faultSettings().LatencyMS; got != 3_600_000 {
		t.Errorf("latency_ms = %d", got)
	}
	h.control("PUT", "/_sandbox/faults", `{"latency_ms":0}`, 200)
	h.get("/directories", 200)
	// The control endpoints are never delayed.
	h.control("PUT", "/_sandbox/faults", `{"latency_ms":60000}`, 200)
	h.control("GET", "/_sandbox/faults", "", 200)
}
