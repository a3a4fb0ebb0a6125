package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Helpers shared by the journey tests: signing in, waiting for the page to
// say something, following links, and reading or driving the sandbox.

// dialogs records every JavaScript dialog a page opened and accepts it, so
// a data-confirm form submits and a stray alert cannot hang a test.
type dialogs struct {
	mu   sync.Mutex
	seen []page.EventJavascriptDialogOpening
}

func (d *dialogs) all() []page.EventJavascriptDialogOpening {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]page.EventJavascriptDialogOpening(nil), d.seen...)
}

// newTestBrowser is newBrowser plus a dialog handler.
func newTestBrowser(t *testing.T) (*browser, *dialogs) {
	t.Helper()
	b := newBrowser(t)
	return b, b.handleDialogs()
}

// handleDialogs starts the browser, accepts every dialog and records it.
func (b *browser) handleDialogs() *dialogs {
	b.t.Helper()
	if err := chromedp.Do(b.ctx); err != nil {
		b.t.Fatalf("start browser: %v", err)
	}
	d := &dialogs{}
	evs := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range evs {
			if err != nil {
				return
			}
			d.mu.Lock()
			d.seen = append(d.seen, ev)
			d.mu.Unlock()
			_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return d
}

// eval runs a JavaScript expression and decodes its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.shot("FAILED-eval")
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// jsq quotes a Go string for JavaScript.
func jsq(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// count is the number of elements matching a CSS selector.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, `document.querySelectorAll(`+jsq(sel)+`).length`)
}

// mainText is the visible text of the page's main element (or body).
func (b *browser) mainText() string {
	b.t.Helper()
	return eval[string](b, `(document.querySelector("main")||document.body).innerText`)
}

// open navigates and waits for the document to load.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// status opens a URL and returns the HTTP status of the document.
func (b *browser) status(url string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		b.shot("FAILED-open")
		b.t.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// waitJS polls a JavaScript condition until it is true or the time is up.
func (b *browser) waitJS(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(`+cond+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.shot("FAILED-" + what)
			b.t.Fatalf("%s: not true after %s (%s; last error %v)", what, timeout, cond, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string, timeout time.Duration) {
	b.t.Helper()
	b.waitJS("wait for "+want, `(()=>{const e=document.querySelector(`+jsq(sel)+`);return e&&e.innerText.includes(`+jsq(want)+`)})()`, timeout)
}

// clickLoad clicks an element that leads to another document (a link or a
// submit button) and waits until the new document has loaded.
func (b *browser) clickLoad(what, sel string) {
	b.t.Helper()
	if b.count(sel) == 0 {
		b.shot("FAILED-" + what)
		b.t.Fatalf("%s: nothing matches %s on %s", what, sel, b.location())
	}
	b.do("mark "+what, chromedp.Evaluate[chromedp.Void](`window.__e2eOld = true`))
	b.do(what, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	b.waitJS(what+" (new page)", `window.__e2eOld === undefined && document.readyState === "complete"`, 20*time.Second)
}

// clickSwap clicks a control that htmx answers in place; it waits until
// the element sel has been replaced (or a new page loaded, without htmx).
func (b *browser) clickSwap(what, click, sel string) {
	b.t.Helper()
	b.do("mark "+what, chromedp.Evaluate[chromedp.Void](`(()=>{const e=document.querySelector(`+jsq(sel)+`);if(e)e.setAttribute("data-e2e-old","1");window.__e2eOld=true})()`))
	b.do(what, chromedp.Click(chromedp.CSS(click), chromedp.NodeVisible))
	// Either htmx replaced the element (no marker left) or the browser loaded
	// a new page (no window marker left).
	b.waitJS(what+" (updated)", `document.readyState === "complete" && (window.__e2eOld === undefined || (document.querySelector(`+jsq(sel)+`) && !document.querySelector(`+jsq(sel+`[data-e2e-old]`)+`)))`, 20*time.Second)
}

// tick checks the checkbox for a person or group row with this id.
func (b *browser) tick(id string) {
	b.t.Helper()
	sel := `input[type=checkbox][value=` + jsq(id) + `]`
	if b.count(sel) == 0 {
		b.shot("FAILED-tick")
		b.t.Fatalf("no checkbox for %s on %s", id, b.location())
	}
	b.do("tick "+id, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if !eval[bool](b, `document.querySelector(`+jsq(sel)+`).checked`) {
		b.t.Fatalf("checkbox for %s did not tick", id)
	}
}

// markSel selects the element that mark marked.
const markSel = `[data-e2e-mark="1"]`

// mark finds an element with a JavaScript expression and marks it (only
// it), so a real mouse click can target it through markSel; it reports
// whether the expression found one.
func (b *browser) mark(expr string) bool {
	b.t.Helper()
	return eval[bool](b, `(()=>{document.querySelectorAll('[data-e2e-mark]').forEach(e=>e.removeAttribute('data-e2e-mark'));const e=(`+expr+`);if(!e)return false;e.setAttribute('data-e2e-mark','1');return true})()`)
}

// attr returns an attribute of the first element matching sel ("" if none).
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	return eval[string](b, `(()=>{const e=document.querySelector(`+jsq(sel)+`);return e?(e.getAttribute(`+jsq(name)+`)||""):""})()`)
}

// texts returns the innerText of every element matching sel.
func (b *browser) texts(sel string) []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll(`+jsq(sel)+`)).map(e=>e.innerText)`)
}

// signIn signs the admin in through the form.
func (b *browser) signIn(a *app) {
	b.t.Helper()
	if a.Email == "" || a.Password == "" {
		b.t.Fatalf("roster did not print how to sign in:\n%s", a.out.String())
	}
	b.open(a.URL + "/login")
	b.do("sign in",
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), a.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), a.Password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-in-admin"]`)))
}

var firstNumber = regexp.MustCompile(`\d[\d,]*`)

// number returns the first number in s (commas allowed), or -1.
func number(s string) int {
	m := firstNumber.FindString(s)
	if m == "" {
		return -1
	}
	n, err := strconv.Atoi(strings.ReplaceAll(m, ",", ""))
	if err != nil {
		return -1
	}
	return n
}

// The sandbox, as GET /_sandbox/state shows it.

type sbState struct {
	Organizations []sbOrg        `json:"organizations"`
	Directories   []sbDirectory  `json:"directories"`
	Users         []sbUser       `json:"users"`
	Groups        []sbGroup      `json:"groups"`
	Memberships   []sbMembership `json:"memberships"`
}

type sbOrg struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Domains []struct {
		Domain string `json:"domain"`
		State  string `json:"state"`
	} `json:"domains"`
}

type sbDirectory struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	State          string `json:"state"`
}

type sbUser struct {
	ID               string         `json:"id"`
	DirectoryID      string         `json:"directory_id"`
	OrganizationID   string         `json:"organization_id"`
	Email            *string        `json:"email"`
	FirstName        *string        `json:"first_name"`
	LastName         *string        `json:"last_name"`
	State            string         `json:"state"`
	CustomAttributes map[string]any `json:"custom_attributes"`
}

func (u sbUser) email() string {
	if u.Email == nil {
		return ""
	}
	return *u.Email
}

func (u sbUser) first() string {
	if u.FirstName == nil {
		return ""
	}
	return *u.FirstName
}

func (u sbUser) last() string {
	if u.LastName == nil {
		return ""
	}
	return *u.LastName
}

// custom returns a custom attribute as text.
func (u sbUser) custom(k string) string {
	if v, ok := u.CustomAttributes[k].(string); ok {
		return v
	}
	return ""
}

type sbGroup struct {
	ID          string `json:"id"`
	DirectoryID string `json:"directory_id"`
	Name        string `json:"name"`
}

type sbMembership struct {
	GroupID string `json:"group_id"`
	UserID  string `json:"user_id"`
}

func (a *app) sandboxState(t *testing.T) sbState {
	t.Helper()
	var st sbState
	if err := json.Unmarshal(a.sandbox(t, "GET", "/_sandbox/state", nil), &st); err != nil {
		t.Fatalf("sandbox state: %v", err)
	}
	return st
}

// sandbox calls the sandbox's control API and returns the body of a 2xx.
func (a *app) sandbox(t *testing.T, method, path string, body any) []byte {
	t.Helper()
	var r io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.SandboxURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("sandbox %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("sandbox %s %s: %s: %s", method, path, resp.Status, out)
	}
	return out
}

func (st sbState) directory(t *testing.T, name string) sbDirectory {
	t.Helper()
	for _, d := range st.Directories {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("sandbox has no directory %q", name)
	return sbDirectory{}
}

func (st sbState) org(id string) sbOrg {
	for _, o := range st.Organizations {
		if o.ID == id {
			return o
		}
	}
	return sbOrg{ID: id}
}

func (st sbState) user(id string) (sbUser, bool) {
	for _, u := range st.Users {
		if u.ID == id {
			return u, true
		}
	}
	return sbUser{}, false
}

// members returns the ids of a group's members.
func (st sbState) members(groupID string) []string {
	var ids []string
	for _, m := range st.Memberships {
		if m.GroupID == groupID {
			ids = append(ids, m.UserID)
		}
	}
	sort.Strings(ids)
	return ids
}

// bucketOf is what the review should do with a person, by the rules of
// issue 6: inactive and no-email people are excluded, as are emails outside
// the organisation's verified domains; the rest get new accounts (nobody has one yet
// in a fresh app).
func (st sbState) bucketOf(u sbUser) string {
	email := u.email()
	switch {
	case u.State != "active":
		return "inactive"
	case email == "" || !strings.Contains(email, "@"):
		return "no_email"
	}
	domain := strings.ToLower(email[strings.LastIndex(email, "@")+1:])
	var allowed []string
	for _, d := range st.org(u.OrganizationID).Domains {
		if d.State == "" || d.State == "verified" || d.State == "legacy_verified" {
			allowed = append(allowed, strings.ToLower(d.Domain))
		}
	}
	if len(allowed) > 0 && !contains(allowed, domain) {
		return "domain"
	}
	return "new"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitFor polls f until it returns "" (done) or the time is up; f returns
// what is still missing.
func waitFor(t *testing.T, what string, timeout time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing := f()
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after %s", what, missing, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitPage reloads url until it answers 200 (e.g. until the sync has
// brought a person into the replica).
func (b *browser) waitPage(url string, timeout time.Duration) {
	b.t.Helper()
	waitFor(b.t, "page "+url, timeout, func() string {
		if st := b.status(url); st != 200 {
			return "HTTP " + strconv.FormatInt(st, 10)
		}
		return ""
	})
}

// fmtIDs is a short list for messages.
func fmtIDs(ids []string) string {
	if len(ids) > 6 {
		return fmt.Sprintf("%s … (%d)", strings.Join(ids[:6], ", "), len(ids))
	}
	return strings.Join(ids, ", ")
}
