package sandbox

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// browser is an HTTP client that does not follow redirects.
func (h *harness) browser(method, path string, form url.Values) (int, string, string) {
	h.t.Helper()
	client := *h.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var res *http.Response
	var err error
	if method == "POST" {
		res, err = client.PostForm(h.srv.URL+path, form)
	} else {
		res, err = client.Get(h.srv.URL + path)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

func (h *harness) newLink(body string) string {
	h.t.Helper()
	r := h.do("POST", "/portal/generate_link", body, true)
	if r.status != 201 {
		h.t.Fatalf("generate_link: %d %s", r.status, r.body)
	}
	link := decode[struct{ Link string }](h.t, r.body).Link
	return strings.TrimPrefix(link, "http://sandbox.test:8081")
}

func TestPortal_GenerateLinkErrors(t *testing.T) {
	h := newHarness(t, Options{PublicURL: "http://sandbox.test:8081"})
	org := h.sb.State().Organizations[0].ID
	r := h.do("POST", "/portal/generate_link", `{"organization":"`+org+`","intent":"dsync"}`, true)
	link := decode[struct{ Link string }](t, r.body).Link
	if r.status != 201 || !strings.HasPrefix(link, "http://sandbox.test:8081/_sandbox/portal/") {
		t.Fatalf("generate_link: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"organization":"org_nope","intent":"dsync"}`, 404, `{"message":"Organization not found: 'org_nope'.","code":"entity_not_found","entity_id":"org_nope"}`},
		{`{"organization":"` + org + `","intent":"sso"}`, 422, `"field":"intent"`},
		{`{"organization":"` + org + `","intent":"teleport"}`, 422, `"field":"intent"`},
		{`{"organization":"` + org + `"}`, 422, `"field":"intent"`},
		{`{"intent":"dsync"}`, 422, `"field":"organization"`},
		{`{"organization":"` + org + `","intent":"dsync","success_url":"javascript:alert(1)"}`, 422, `"field":"success_url"`},
	} {
		r := h.do("POST", "/portal/generate_link", c.body, true)
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s", c.body, r.status, r.body)
		}
	}
	if r := h.do("POST", "/portal/generate_link", `{"organization":"`+org+`","intent":"dsync"}`, false); r.status != 401 {
		t.Errorf("without key: %d", r.status)
	}
}

func TestPortal_LinkIsSingleUseAndExpires(t *testing.T) {
	h := newHarness(t, Options{PublicURL: "http://sandbox.test:8081"})
	org := h.sb.State().Organizations[0].ID
	link := h.newLink(`{"organization":"` + org + `","intent":"dsync","return_url":"https://app.example/settings"}`)
	status, loc, _ := h.browser("GET", link, nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/_sandbox/portal/s/") {
		t.Fatalf("first open: %d %s", status, loc)
	}
	status, _, body := h.browser("GET", link, nil)
	if status != http.StatusGone || !strings.Contains(body, "already used") || !strings.Contains(body, "https://app.example/settings") {
		t.Errorf("second open: %d %s", status, body)
	}
	// The session itself keeps working.
	if status, _, body := h.browser("GET", loc, nil); status != 200 || !strings.Contains(body, "Okta") {
		t.Errorf("session page: %d", status)
	}
	late := h.newLink(`{"organization":"` + org + `","intent":"dsync"}`)
	h.clock.Advance(5*time.Minute + time.Second)
	status, _, body = h.browser("GET", late, nil)
	if status != http.StatusGone || !strings.Contains(body, "expired") {
		t.Errorf("expired link: %d %s", status, body)
	}
	status, _, body = h.browser("GET", "/_sandbox/portal/nope", nil)
	if status != http.StatusNotFound || !strings.Contains(body, "not valid") {
		t.Errorf("unknown link: %d", status)
	}
	h.clock.Advance(time.Hour)
	if status, _, _ := h.browser("GET", loc, nil); status != http.StatusGone {
		t.Errorf("session after an hour: %d", status)
	}
}

func TestPortal_FlowCreatesAndSyncsDirectory(t *testing.T) {
	h := newHarness(t, Options{PublicURL: "http://sandbox.test:8081"})
	h.sb.mu.Lock()
	h.sb.pushTick = time.Hour // hold the push until the validating state is checked
	h.sb.mu.Unlock()
	org := h.sb.State().Organizations[0].ID
	link := h.newLink(`{"organization":"` + org + `","intent":"dsync","success_url":"https://app.example/done"}`)
	_, session, _ := h.browser("GET", link, nil)
	_, _, page := h.browser("GET", session, nil)
	for _, p := range []string{"Okta", "Microsoft Entra ID", "Google Workspace", "Another SCIM 2.0 provider", `for="provider-okta"`} {
		if !strings.Contains(page, p) {
			t.Errorf("provider page lacks %q", p)
		}
	}
	status, loc, _ := h.browser("POST", session+"/provider", url.Values{"provider": {"entra"}})
	if status != http.StatusSeeOther || loc != session {
		t.Fatalf("choose provider: %d %s", status, loc)
	}
	_, _, page = h.browser("GET", session, nil)
	if !strings.Contains(page, "Enterprise applications") || !strings.Contains(page, `value="small"`) {
		t.Errorf("setup page lacks the Entra steps or the sizes")
	}
	mark := h.lastEventID()
	h.browser("POST", session+"/finish", url.Values{"size": {"small"}})
	st := h.sb.State()
	var dir Directory
	for _, d := range st.Directories {
		if d.Type == typeEntra {
			dir = d
		}
	}
	if dir.State != "validating" || dir.OrganizationID != org {
		t.Fatalf("new directory = %+v", dir)
	}
	if evs := h.eventsSince(mark); len(evs) != 0 {
		t.Errorf("events before activation: %v", names(evs))
	}
	_, _, page = h.browser("GET", session, nil)
	if !strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("syncing page does not refresh itself")
	}
	h.sb.mu.Lock()
	h.sb.pushTick = time.Millisecond
	h.sb.mu.Unlock()
	waitFor(t, func() bool {
		status, loc, _ := h.browser("GET", session, nil)
		return status == http.StatusSeeOther && loc == "https://app.example/done"
	})
	st = h.sb.State()
	users, groups := 0, 0
	for _, u := range st.Users {
		if u.DirectoryID == dir.ID {
			users++
		}
	}
	for _, g := range st.Groups {
		if g.DirectoryID == dir.ID {
			groups++
		}
	}
	if users != 25 || groups != 4 {
		t.Errorf("synced %d users, %d groups; want 25, 4", users, groups)
	}
	if d := decode[Directory](t, h.get("/directories/"+dir.ID, 200)); d.State != "linked" {
		t.Errorf("directory state %s after the sync", d.State)
	}
	evs := h.eventsSince(mark)
	got := names(evs)
	if got[0] != "dsync.activated" {
		t.Fatalf("first event %s", got[0])
	}
	phase := map[string]int{"dsync.activated": 0, "dsync.group.created": 1, "dsync.user.created": 2, "dsync.group.user_added": 3}
	for i := 1; i < len(got); i++ {
		if phase[got[i]] < phase[got[i-1]] {
			t.Fatalf("push out of order: %s after %s", got[i], got[i-1])
		}
	}
	if n := len(slices.DeleteFunc(slices.Clone(got), func(s string) bool { return s != "dsync.user.created" })); n != 25 {
		t.Errorf("%d user.created events", n)
	}
}

func TestPortal_EmptySizeAndDonePage(t *testing.T) {
	h := newHarness(t, Options{PublicURL: "http://sandbox.test:8081"})
	h.sb.mu.Lock()
	h.sb.pushTick = time.Millisecond
	h.sb.mu.Unlock()
	org := h.sb.State().Organizations[0].ID
	_, session, _ := h.browser("GET", h.newLink(`{"organization":"`+org+`","intent":"dsync"}`), nil)
	h.browser("POST", session+"/provider", url.Values{"provider": {"google"}})
	h.browser("POST", session+"/finish", url.Values{"size": {"empty"}})
	waitFor(t, func() bool {
		_, _, page := h.browser("GET", session, nil)
		return strings.Contains(page, "Done")
	})
	_, _, page := h.browser("GET", session, nil)
	if !strings.Contains(page, `href="/_sandbox/"`) {
		t.Error("done page without success_url lacks a link")
	}
	for _, d := range h.sb.State().Directories {
		if d.Type == typeGoogle && (d.State != "linked" || d.Domain != "fabrikam.example" || d.Metadata.Users.Active != 0) {
			t.Errorf("google directory = %+v", d)
		}
	}
}

func TestControlPage_OpensAdminPortal(t *testing.T) {
	h := newHarness(t, Options{})
	org := h.sb.State().Organizations[0].ID
	status, loc, _ := h.browser("POST", "/_sandbox/ui/orgs/"+org+"/portal", nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/_sandbox/portal/") {
		t.Fatalf("portal button: %d %s", status, loc)
	}
	if status, loc, _ := h.browser("GET", loc, nil); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/_sandbox/portal/s/") {
		t.Errorf("opening: %d %s", status, loc)
	}
	if status, loc, _ := h.browser("POST", "/_sandbox/ui/orgs/org_nope/portal", nil); status != http.StatusSeeOther || !strings.Contains(loc, "err=") {
		t.Errorf("unknown org: %d %s", status, loc)
	}
}
