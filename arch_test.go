package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules fails when a package breaks the dependency direction
// main → web → onboarding → {db, dirsync}, web → views → static.
func TestImportRules(t *testing.T) {
	const mod = "roster"
	banned := map[string][]string{ // package (exact or prefix+"/") → import prefixes it must not use
		mod + "/views":               {mod + "/internal/", mod + "/web", "github.com/labstack/echo", "github.com/gorilla/", "net/http"},
		mod + "/static":              {mod + "/"},
		mod + "/web":                 {mod + "/internal/db", mod + "/internal/dirsync"},
		mod + "/internal/onboarding": {"github.com/labstack/echo", "github.com/a-h/templ", "github.com/gorilla/", mod + "/web", mod + "/views"},
		mod + "/internal/db":         {mod + "/internal/dirsync", mod + "/internal/onboarding", mod + "/web", mod + "/views", "github.com/labstack/echo", "net/http"},
		mod + "/internal/dirsync":    {mod + "/internal/db", mod + "/internal/onboarding", mod + "/web", "github.com/labstack/echo", "github.com/mattn/go-sqlite3"},
	}
	// The sandbox emulates WorkOS on its own: it must not share the client's code.
	extra := map[string][]string{
		mod + "/internal/dirsync/sandbox": {mod + "/internal/dirsync$"},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imports := f[0], f[1:]
		for owner, bans := range banned {
			if pkg != owner && !strings.HasPrefix(pkg, owner+"/") {
				continue
			}
			checked++
			for _, imp := range imports {
				for _, b := range bans {
					if strings.HasPrefix(imp, b) {
						t.Errorf("%s must not import %s", pkg, imp)
					}
				}
			}
		}
		for owner, bans := range extra {
			if pkg != owner && !strings.HasPrefix(pkg, owner+"/") {
				continue
			}
			for _, imp := range imports {
				for _, b := range bans {
					if exact, ok := strings.CutSuffix(b, "$"); ok && imp == exact {
						t.Errorf("%s must not import %s (the sandbox shares no code with the client)", pkg, imp)
					}
				}
			}
		}
	}
	if checked < 6 {
		t.Fatalf("only %d packages checked: the rules no longer match the layout", checked)
	}
}
