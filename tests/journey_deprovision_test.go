package tests

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var hiredID = regexp.MustCompile(`\((directory_user_[A-Za-z0-9]+)\)`)

// TestJourney_Deprovision (issue 7): a person hired on the sandbox's
// control page is invited and accepts; deactivating them on that page
// suspends their Roster account within the demo sync interval (1 s; the
// test allows 20 s).
func TestJourney_Deprovision(t *testing.T) {
	b, _ := newTestBrowser(t)
	a := startApp(t, "SANDBOX_PRESET=small")
	st := a.sandboxState(t)
	if len(st.Directories) == 0 {
		t.Fatal("the small preset has no directory")
	}
	dir := st.Directories[0]

	// Hire on the sandbox's page (the IT admin's side).
	b.open(a.SandboxURL + "/_sandbox/")
	b.shot("sandbox control page")
	b.do("fill the hire form",
		chromedp.SendKeys(chromedp.CSS("#hire-first-"+dir.ID), "Dana"),
		chromedp.SendKeys(chromedp.CSS("#hire-last-"+dir.ID), "Leaver"),
		chromedp.SendKeys(chromedp.CSS("#hire-title-"+dir.ID), "Release Manager"),
		chromedp.SendKeys(chromedp.CSS("#hire-dept-"+dir.ID), "Engineering"))
	b.clickLoad("hire", `form[action="/_sandbox/ui/directories/`+dir.ID+`/users"] button[type=submit]`)
	b.shot("hired")
	m := hiredID.FindStringSubmatch(b.text(".flash"))
	if m == nil {
		t.Fatalf("the sandbox did not say whom it hired: %q", b.text("main"))
	}
	hired, ok := a.sandboxState(t).user(m[1])
	if !ok || hired.email() == "" {
		t.Fatalf("the hired person %s is not in the sandbox state with an email", m[1])
	}

	// Roster: the sync brings them in; invite them; they accept.
	b.signIn(a)
	b.waitPage(a.URL+"/users/"+hired.ID, 30*time.Second)
	b.shot("hired person in roster")
	b.selectOne(a, hired.ID)
	if n := b.inviteSelection(a); n != 1 {
		t.Fatalf("invite created %d accounts, want 1", n)
	}
	link := b.invitationLink(a, hired.email(), 30*time.Second)
	b.acceptInvitation(link, hired)
	accountURL := b.openAccount(a, hired.email())
	b.shot("account active")
	if st := b.accountState(); st != "active" {
		t.Fatalf("before the deactivation the account is %q, want active", st)
	}

	// Deactivate on the sandbox's page.
	b.open(a.SandboxURL + "/_sandbox/")
	b.clickLoad("deactivate", `button[aria-label="Deactivate Dana Leaver"]`)
	b.shot("deactivated in the sandbox")
	if msg := b.text(".flash"); !strings.Contains(msg, "inactive") {
		t.Fatalf("the sandbox says %q after deactivating", msg)
	}
	if u, _ := a.sandboxState(t).user(hired.ID); u.State != "inactive" {
		t.Fatalf("sandbox state of %s is %q, want inactive", hired.ID, u.State)
	}

	// Roster suspends the account (default policy: suspend now).
	start := time.Now()
	waitFor(t, "account suspended", 20*time.Second, func() string {
		b.open(accountURL)
		if st := b.accountState(); st != "suspended" {
			return "state " + st
		}
		return ""
	})
	t.Logf("suspended %s after the deactivation", time.Since(start).Round(100*time.Millisecond))
	b.shot("account suspended")
	b.open(a.URL + "/accounts?q=" + queryEscape(hired.email()))
	b.shot("accounts list")
	rows := b.texts(`[data-testid="account-row"]`)
	if len(rows) != 1 || !strings.Contains(rows[0], hired.email()) || !strings.Contains(rows[0], "suspended") {
		t.Errorf("/accounts rows for %s: %q, want one, suspended", hired.email(), rows)
	}
}
