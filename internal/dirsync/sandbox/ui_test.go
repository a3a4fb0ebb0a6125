package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func (h *harness) postForm(path string, form url.Values) *http.Response {
	h.t.Helper()
	client := *h.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.PostForm(h.srv.URL+path, form)
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestControlPage_RendersEscapedAndLabelled(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/_sandbox/", "", false)
	if r.status != 200 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /_sandbox/: %d %s", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	if !strings.Contains(page, "Fabrikam Okta") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("page lacks the directory or the escaped hostile title")
	}
	if strings.Contains(page, "<script>alert(1)") {
		t.Error("hostile title rendered unescaped")
	}
	// Every input and select has a <label for> or an aria-label.
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label[^>]*for="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		labels[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<(input|select)[^>]*>`).FindAllString(page, -1) {
		id := regexp.MustCompile(`id="([^"]+)"`).FindStringSubmatch(m)
		if id == nil || !labels[id[1]] {
			t.Errorf("control without label: %s", m)
		}
	}
}

func TestControlPage_FormsWorkWithoutJS(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.sb.State()
	dir := st.Directories[0].ID
	mark := h.lastEventID()
	res := h.postForm("/_sandbox/ui/directories/"+dir+"/users", url.Values{"first_name": {"Form"}, "last_name": {"Hire"}, "job_title": {"Tester"}, "group_id": {st.Groups[0].ID}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/_sandbox/?msg=") {
		t.Fatalf("hire form: %d %s", res.StatusCode, loc)
	}
	if got := names(h.eventsSince(mark)); len(got) != 2 || got[0] != "dsync.user.created" {
		t.Fatalf("hire form events = %v", got)
	}
	follow := h.do("GET", loc, "", false)
	if !strings.Contains(string(follow.body), "Hired Form Hire") {
		t.Error("flash message missing after redirect")
	}
	var uid string
	for _, u := range h.sb.State().Users {
		if u.FirstName != nil && *u.FirstName == "Form" {
			uid = u.ID
		}
	}
	for _, step := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/_sandbox/ui/users/" + uid + "/update", url.Values{"job_title": {"Lead"}}, "dsync.user.updated"},
		{"/_sandbox/ui/users/" + uid + "/state", url.Values{"state": {"inactive"}}, "dsync.user.updated"},
		{"/_sandbox/ui/groups/" + st.Groups[1].ID + "/members", url.Values{"user_id": {uid}, "op": {"add"}}, "dsync.group.user_added"},
		{"/_sandbox/ui/groups/" + st.Groups[1].ID + "/members", url.Values{"user_id": {uid}, "op": {"remove"}}, "dsync.group.user_removed"},
		{"/_sandbox/ui/directories/" + dir + "/groups", url.Values{"name": {"Formed"}}, "dsync.group.created"},
		{"/_sandbox/ui/groups/" + st.Groups[1].ID + "/rename", url.Values{"name": {"Renamed"}}, "dsync.group.updated"},
		{"/_sandbox/ui/directories/" + dir + "/scenarios", url.Values{"name": {"leavers-delete"}, "count": {"1"}}, "dsync.user.deleted"},
		{"/_sandbox/ui/users/" + uid + "/delete", nil, "dsync.user.deleted"},
		{"/_sandbox/ui/groups/" + st.Groups[1].ID + "/delete", nil, "dsync.group.deleted"},
		{"/_sandbox/ui/directories/" + dir + "/delete", nil, "dsync.deleted"},
	} {
		mark := h.lastEventID()
		res := h.postForm(step.path, step.form)
		if res.StatusCode != http.StatusSeeOther || strings.Contains(res.Header.Get("Location"), "err=") {
			t.Fatalf("%s: %d %s", step.path, res.StatusCode, res.Header.Get("Location"))
		}
		got := names(h.eventsSince(mark))
		if len(got) == 0 || got[len(got)-1] != step.want {
			t.Errorf("%s: events %v, want last %s", step.path, got, step.want)
		}
	}
	// Errors come back as a flash, not a crash.
	res = h.postForm("/_sandbox/ui/users/directory_user_nope/delete", nil)
	if !strings.Contains(res.Header.Get("Location"), "err=") {
		t.Errorf("unknown user: %s", res.Header.Get("Location"))
	}
	res = h.postForm("/_sandbox/ui/faults", url.Values{"rate_limit": {"on"}, "latency_ms": {"0"}, "error_rate": {"0"}, "drop_rate": {"0"}})
	if res.StatusCode != http.StatusSeeOther || !h.sb.faultSettings().RateLimit {
		t.Errorf("faults form did not turn the rate limit on")
	}
	res = h.postForm("/_sandbox/ui/churn", url.Values{"per_minute": {"3"}})
	if res.StatusCode != http.StatusSeeOther || h.sb.churn.rate() != 3 {
		t.Errorf("churn form: rate %d", h.sb.churn.rate())
	}
}

func TestASCIILocal(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"Zoë", "O'Neil"}: "zoe.oneil", {"Ângela", "Müller-Straße"}: "angela.mullerstrasse", {"太郎", "Smith"}: "smith",
	} {
		if got := asciiLocal(in[0], in[1]); got != want {
			t.Errorf("asciiLocal(%q) = %q, want %q", in, got, want)
		}
	}
}
