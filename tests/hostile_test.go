package tests

import (
	"strings"
	"testing"
	"time"
)

// TestHostileData_RendersEscaped: the sandbox's person with a <script> job
// title and a SQL-injection name, and the right-to-left and emoji names,
// render literally on their pages and in a users list; no script runs.
func TestHostileData_RendersEscaped(t *testing.T) {
	b, dlg := newTestBrowser(t)
	a := startApp(t, "SANDBOX_PRESET=small")
	st := a.sandboxState(t)

	var script, rtl, emoji sbUser
	for _, u := range st.Users {
		switch {
		case strings.Contains(u.custom("job_title"), "<script>"):
			script = u
		case strings.ContainsAny(u.first(), "ليلىנועה") && rtl.ID == "":
			rtl = u
		case strings.Contains(u.first(), "🌈"):
			emoji = u
		}
	}
	if script.ID == "" || rtl.ID == "" || emoji.ID == "" {
		t.Fatalf("sandbox lacks the hostile people (script %q, rtl %q, emoji %q)", script.ID, rtl.ID, emoji.ID)
	}
	title := script.custom("job_title")

	b.signIn(a)
	b.waitPage(a.URL+"/users/"+script.ID, 60*time.Second)
	b.shot("script title person")
	text := b.mainText()
	if !strings.Contains(text, title) {
		t.Errorf("person page does not show the job title %q literally; main text:\n%s", title, text)
	}
	if !strings.Contains(text, script.first()) {
		t.Errorf("person page does not show the name %q intact; main text:\n%s", script.first(), text)
	}
	// The title must be text, not markup: no element was made of it.
	if n := eval[int](b, `Array.from(document.scripts).filter(s=>s.text.includes("alert(1)")).length`); n != 0 {
		t.Errorf("the page holds %d <script> element(s) made from directory data", n)
	}

	for _, u := range []sbUser{rtl, emoji} {
		b.waitPage(a.URL+"/users/"+u.ID, 30*time.Second)
		b.shot("person " + u.ID)
		text := b.mainText()
		for _, part := range []string{u.first(), u.last()} {
			if !strings.Contains(text, part) {
				t.Errorf("person page of %s does not show %q intact; main text:\n%s", u.ID, part, text)
			}
		}
	}

	// A list: searching for the person shows the row with the title as text.
	b.open(a.URL + "/directories/" + script.DirectoryID + "/users?q=bobby")
	b.shot("users list search")
	if row := b.texts(`[data-testid="person-row"]`); len(row) == 0 || !strings.Contains(strings.Join(row, "\n"), title) {
		t.Errorf("users list search for bobby: rows %q, want one showing %q", row, title)
	}
	if n := eval[int](b, `Array.from(document.scripts).filter(s=>s.text.includes("alert(1)")).length`); n != 0 {
		t.Errorf("the users list holds %d <script> element(s) made from directory data", n)
	}
	// Give a would-be script a moment to run, then check no dialog opened.
	b.waitJS("page settled", `document.readyState === "complete"`, 5*time.Second)
	if ds := dlg.all(); len(ds) > 0 {
		t.Errorf("a JavaScript dialog opened: %q", ds[0].Message)
	}
}
