package tests

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestJourney_SignInAndOut: the printed demo credentials work, a wrong
// password is refused with a message, the shell shows the admin and the
// navigation, and signing out returns to the sign-in page.
func TestJourney_SignInAndOut(t *testing.T) {
	b := newBrowser(t)
	a := startApp(t)
	if a.Email == "" || a.Password == "" {
		t.Fatalf("roster did not print how to sign in:\n%s", a.out.String())
	}
	b.do("open sign-in", chromedp.Navigate(a.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	b.shot("sign-in page")
	b.do("wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), a.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-error"]`)))
	b.shot("wrong password refused")
	if msg := b.text(`[data-testid="login-error"]`); !strings.Contains(msg, "do not match") {
		t.Errorf("error message = %q", msg)
	}
	b.do("right password",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#password').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#password"), a.Password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-in-admin"]`)))
	b.shot("signed in")
	if who := b.text(`[data-testid="signed-in-admin"]`); !strings.Contains(who, a.Email) {
		t.Errorf("shell shows %q, want %s", who, a.Email)
	}
	nav := b.text(`nav[aria-label="Main"]`)
	for _, item := range []string{"Directories", "Sync"} {
		if !strings.Contains(nav, item) {
			t.Errorf("navigation %q lacks %s", nav, item)
		}
	}
	if !strings.Contains(b.text(".topbar"), "Demo data") {
		t.Error("no Demo data badge in demo mode")
	}
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS("#email")))
	b.shot("signed out")
	if loc := b.location(); !strings.HasSuffix(loc, "/login") {
		t.Errorf("after sign-out at %s, want /login", loc)
	}
	b.do("protected page after sign-out", chromedp.Navigate(a.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#email")))
}
