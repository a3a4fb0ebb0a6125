package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
	"roster/internal/onboarding"
)

// authApp is a running Roster web layer over a temp database, for the
// foundation's tests.
type authApp struct {
	t      *testing.T
	db     *db.DB
	auth   *onboarding.Auth
	srv    *Server
	ts     *httptest.Server
	clock  *testClock
	email  string
	passwd string
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newAuthApp(t *testing.T, configure ...func(*Server)) *authApp {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	clock := &testClock{t: time.Now()}
	auth := onboarding.NewAuth(d)
	auth.BcryptCost = bcrypt.MinCost
	auth.Now = clock.Now
	a := &authApp{t: t, db: d, auth: auth, clock: clock, email: "ada@example.com", passwd: "correct horse battery"}
	if _, err := auth.EnsureAdmin(ctx, a.email, a.passwd); err != nil {
		t.Fatal(err)
	}
	hk, bk, err := auth.SessionKeys(ctx, "test-secret")
	if err != nil {
		t.Fatal(err)
	}
	a.srv = &Server{
		Config: Config{BaseURL: "http://example.test", SessionHashKey: hk, SessionBlock: bk,
			SessionIdle: time.Hour, SessionMaxAge: 24 * time.Hour},
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:  auth,
		App:   &onboarding.Service{DB: d},
		Ready: d.Ping,
		Now:   clock.Now,
	}
	for _, f := range configure {
		f(a.srv)
	}
	a.ts = httptest.NewServer(a.srv.Handler())
	t.Cleanup(a.ts.Close)
	return a
}

// client returns a browser-like client: a cookie jar, no redirect following.
func (a *authApp) client() *http.Client {
	return browserClient()
}

func (a *authApp) get(c *http.Client, path string) (*http.Response, *goquery.Document) {
	a.t.Helper()
	return getDoc(a.t, c, a.ts.URL+path)
}

// csrf fetches a page and returns the form token on it.
func (a *authApp) csrf(c *http.Client, path string) string {
	a.t.Helper()
	_, doc := a.get(c, path)
	tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok || tok == "" {
		a.t.Fatalf("no CSRF token on %s", path)
	}
	return tok
}

func (a *authApp) post(c *http.Client, path string, form url.Values) (*http.Response, *goquery.Document) {
	a.t.Helper()
	resp, err := c.PostForm(a.ts.URL+path, form)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	return resp, doc
}

func (a *authApp) signIn(c *http.Client, email, pw string) *http.Response {
	a.t.Helper()
	tok := a.csrf(c, "/login")
	resp, _ := a.post(c, "/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {pw}})
	return resp
}

func TestSignIn_SuccessAndFailure(t *testing.T) {
	a := newAuthApp(t)
	c := a.client()

	resp, doc := a.get(c, "/account")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("signed-out /account: got %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	_ = doc

	tok := a.csrf(c, "/login")
	resp, doc = a.post(c, "/login", url.Values{"_csrf": {tok}, "email": {a.email}, "password": {"wrong password!"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d, want 401", resp.StatusCode)
	}
	wrongPw := doc.Find(`[data-testid="login-error"]`).Text()
	_, doc = a.post(c, "/login", url.Values{"_csrf": {tok}, "email": {"nobody@example.com"}, "password": {"whatever123"}})
	unknown := doc.Find(`[data-testid="login-error"]`).Text()
	if wrongPw == "" || wrongPw != unknown {
		t.Errorf("messages differ between wrong password (%q) and unknown email (%q): that enumerates users", wrongPw, unknown)
	}

	resp = a.signIn(c, "ADA@example.com", a.passwd)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: got %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionName {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v, want HttpOnly and SameSite=Lax", sess)
	}
	resp, doc = a.get(c, "/account")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/account after sign-in: %d", resp.StatusCode)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="signed-in-admin"]`).Text()); !strings.Contains(got, a.email) {
		t.Errorf("shell shows %q, want the admin's email", got)
	}
	if doc.Find(`nav[aria-label="Main"]`).Length() != 1 || doc.Find(`a.skip-link[href="#main"]`).Length() != 1 {
		t.Error("shell lacks the main nav or the skip link")
	}
}

func TestSignIn_NextIsLocalOnly(t *testing.T) {
	a := newAuthApp(t)
	c := a.client()
	tok := a.csrf(c, "/login")
	resp, _ := a.post(c, "/login", url.Values{"_csrf": {tok}, "email": {a.email}, "password": {a.passwd}, "next": {"//evil.example/x"}})
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("open redirect: Location %q, want /", loc)
	}
}

func TestSignIn_Throttle(t *testing.T) {
	a := newAuthApp(t)
	c := a.client()
	for i := 0; i < a.auth.MaxFailuresPerAccount; i++ {
		if resp := a.signIn(c, a.email, "not the password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := a.signIn(c, a.email, a.passwd)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures the right password got %d, want 429", a.auth.MaxFailuresPerAccount, resp.StatusCode)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another IP-independent account is not locked by this one's failures...
	a.clock.Add(16 * time.Minute)
	if resp := a.signIn(c, a.email, a.passwd); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: status %d, want 303", resp.StatusCode)
	}
}

func TestSignIn_ThrottlePerIP(t *testing.T) {
	a := newAuthApp(t)
	a.auth.MaxFailuresPerIP = 3
	c := a.client()
	for i := 0; i < 3; i++ {
		a.signIn(c, "someone"+string(rune('a'+i))+"@example.com", "guess-guess")
	}
	if resp := a.signIn(c, a.email, a.passwd); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("IP with 3 failures across accounts: status %d, want 429", resp.StatusCode)
	}
}

func TestCSRF_Rejected(t *testing.T) {
	a := newAuthApp(t)
	c := a.client()
	a.csrf(c, "/login") // get the cookie, then post without the field
	resp, doc := a.post(c, "/login", url.Values{"email": {a.email}, "password": {a.passwd}})
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without token: status %d, want 400/403", resp.StatusCode)
	}
	if doc.Find(`[data-testid="message"]`).Length() == 0 {
		t.Error("CSRF refusal is not a rendered page")
	}
	resp, _ = a.post(c, "/login", url.Values{"_csrf": {"forged"}, "email": {a.email}, "password": {a.passwd}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST with a wrong token: status %d, want 403", resp.StatusCode)
	}
	// Signed-in admins are protected too.
	a.signIn(c, a.email, a.passwd)
	resp, _ = a.post(c, "/logout", url.Values{})
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatal("logout without a token was accepted")
	}
}

func TestSession_IdleAndAbsoluteExpiry(t *testing.T) {
	a := newAuthApp(t)
	c := a.client()
	a.signIn(c, a.email, a.passwd)
	a.clock.Add(50 * time.Minute)
	if resp, _ := a.get(c, "/account"); resp.StatusCode != http.StatusOK {
		t.Fatalf("within idle timeout: %d", resp.StatusCode)
	}
	a.clock.Add(61 * time.Minute) // more than an hour since the last request
	if resp, _ := a.get(c, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after idle timeout: %d, want a redirect to sign in", resp.StatusCode)
	}

	c = a.client()
	a.signIn(c, a.email, a.passwd)
	for i := 0; i < 28; i++ { // active every 55 minutes, but past the 24 h absolute limit
		a.clock.Add(55 * time.Minute)
		a.get(c, "/account")
	}
	if resp, _ := a.get(c, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after absolute expiry: %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestSession_SignOutAndPasswordChangeEndOtherSessions(t *testing.T) {
	a := newAuthApp(t)
	laptop, phone := a.client(), a.client()
	a.signIn(laptop, a.email, a.passwd)
	a.signIn(phone, a.email, a.passwd)

	// Save the phone's cookies to replay them after sign-out.
	u, _ := url.Parse(a.ts.URL)
	old := phone.Jar.Cookies(u)

	tok := a.csrf(phone, "/account")
	resp, _ := a.post(phone, "/logout", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	replay := a.client()
	replay.Jar.SetCookies(u, old)
	if resp, _ := a.get(replay, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed cookie after sign-out: %d, want redirect", resp.StatusCode)
	}
	if resp, _ := a.get(laptop, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out should end the admin's other sessions too: %d", resp.StatusCode)
	}

	a.signIn(laptop, a.email, a.passwd)
	a.signIn(phone, a.email, a.passwd)
	tok = a.csrf(laptop, "/account")
	resp, doc := a.post(laptop, "/account/password", url.Values{"_csrf": {tok}, "current": {"wrong one!!"}, "new": {"a brand new password"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Text(), "current password") {
		t.Fatalf("wrong current password: %d", resp.StatusCode)
	}
	resp, _ = a.post(laptop, "/account/password", url.Values{"_csrf": {tok}, "current": {a.passwd}, "new": {"a brand new password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	if resp, _ := a.get(laptop, "/account"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the browser that changed the password should stay signed in: %d", resp.StatusCode)
	}
	if resp, _ := a.get(phone, "/account"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("other session after password change: %d, want redirect", resp.StatusCode)
	}
	if resp := a.signIn(a.client(), a.email, "a brand new password"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := newAuthApp(t)
	resp, _ := a.get(a.client(), "/login")
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
		t.Errorf("missing nosniff or Referrer-Policy: %v", h)
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func TestNotFoundPage(t *testing.T) {
	a := newAuthApp(t)
	resp, doc := a.get(a.client(), "/no/such/page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !strings.Contains(doc.Find("h1").Text(), "not found") && !strings.Contains(doc.Find("h1").Text(), "Not found") {
		t.Errorf("404 page heading = %q", doc.Find("h1").Text())
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestHealthAndReady(t *testing.T) {
	a := newAuthApp(t)
	resp, err := http.Get(a.ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	resp, _ = http.Get(a.ts.URL + "/readyz")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("readyz with a migrated db: %d", resp.StatusCode)
	}
	a.db.Close()
	resp, _ = http.Get(a.ts.URL + "/readyz")
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a closed db: %d, want 503", resp.StatusCode)
	}
}

func TestSetupLink(t *testing.T) {
	a := newAuthApp(t)
	ctx := context.Background()
	tok, _, err := a.auth.CreateSetupLink(ctx, onboarding.Actor{}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c := a.client()
	form := func(pw string) url.Values {
		return url.Values{"_csrf": {a.csrf(c, "/setup/"+tok)}, "email": {"grace@example.com"}, "password": {pw}}
	}
	resp, doc := a.post(c, "/setup/"+tok, form("short"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Text(), "at least 10") {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	f := form("long enough password")
	resp, _ = a.post(c, "/setup/"+tok, f)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	resp, doc = a.post(a.client(), "/setup/"+tok, f) // a double submit from another browser
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a used link created a second admin")
	}
	if n, _ := a.db.CountAdmins(ctx); n != 2 {
		t.Fatalf("admins = %d, want 2", n)
	}
	resp, doc = a.get(a.client(), "/setup/"+tok)
	if resp.StatusCode != http.StatusGone || !strings.Contains(doc.Find("h1").Text(), "already used") {
		t.Errorf("reused link page: %d %q", resp.StatusCode, doc.Find("h1").Text())
	}
	resp, _ = a.get(a.client(), "/setup/not-a-token")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown link: %d", resp.StatusCode)
	}
	tok2, _, _ := a.auth.CreateSetupLink(ctx, onboarding.Actor{}, "", "")
	a.clock.Add(onboarding.SetupLinkTTL + time.Minute)
	resp, doc = a.get(a.client(), "/setup/"+tok2)
	if resp.StatusCode != http.StatusGone || !strings.Contains(doc.Find("h1").Text(), "expired") {
		t.Errorf("expired link page: %d %q", resp.StatusCode, doc.Find("h1").Text())
	}
}

func dbAllAudit() db.AuditSearch { return db.AuditSearch{AllOrgs: true} }
