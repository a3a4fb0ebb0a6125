package sandboxui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHome_EscapesAndLabels(t *testing.T) {
	page := render(t, Home(HomeVM{
		Flash: "Hired <b>x</b>",
		Directories: []DirectoryVM{{
			ID: "directory_1", Name: "Dir <1>", Type: "okta scim v2.0", State: "linked",
			Users:  []UserVM{{ID: "directory_user_1", Name: "Bobby", JobTitle: "<script>alert(1)</script>", Active: true}},
			Groups: []GroupVM{{ID: "directory_group_1", Name: "R&D", Members: 3}},
		}},
	}))
	for _, want := range []string{"Hired &lt;b&gt;x&lt;/b&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;", "R&amp;D", `for="hire-first-directory_1"`, `aria-label="Deactivate Bobby"`, `<main>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("unescaped script")
	}
}

func TestPortal_Steps(t *testing.T) {
	p := ProviderVM{Key: "okta", Label: "Okta", Steps: []string{"Open the Okta Admin Console."}}
	cases := map[string]string{
		"provider": `name="provider"`,
		"setup":    "Open the Okta Admin Console.",
		"syncing":  `http-equiv="refresh"`,
		"done":     "Done",
	}
	for step, want := range cases {
		page := render(t, Portal(PortalVM{Organization: "Acme", Step: step, Action: "/_sandbox/portal/s/x", Providers: []ProviderVM{p}, Provider: p,
			Sizes: []SizeVM{{Key: "small", Label: "Small", Users: 25, Groups: 4, Checked: true}}}))
		if !strings.Contains(page, want) {
			t.Errorf("step %s lacks %q", step, want)
		}
		if step != "syncing" && strings.Contains(page, `http-equiv="refresh"`) {
			t.Errorf("step %s refreshes", step)
		}
	}
	page := render(t, PortalError(PortalErrorVM{Title: "This setup link has expired", Message: "m", ReturnURL: "https://app.example/"}))
	if !strings.Contains(page, "<h1>This setup link has expired</h1>") || !strings.Contains(page, `href="https://app.example/"`) {
		t.Errorf("error page: %s", page)
	}
}
