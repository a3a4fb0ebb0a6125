package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fuzzTarget is one fuzz function of the module and the package folder it
// lives in.
type fuzzTarget struct{ dir, name string }

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)

// fuzzTargets finds every fuzz function in the module's test files.
func fuzzTargets(t *testing.T) []fuzzTarget {
	t.Helper()
	var out []fuzzTarget
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			out = append(out, fuzzTarget{dir: filepath.Dir(path), name: string(m[1])})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every fuzz target keeps a committed corpus beside it (testdata/fuzz/Name):
// the inputs that found bugs or cover its edges run in every plain test run.
func TestFuzzTargetsHaveCorpus(t *testing.T) {
	targets := fuzzTargets(t)
	if len(targets) < 5 {
		t.Fatalf("found %d fuzz targets, want the 5 or more of the module: %v", len(targets), targets)
	}
	for _, ft := range targets {
		files, err := os.ReadDir(filepath.Join(ft.dir, "testdata", "fuzz", ft.name))
		if err != nil || len(files) == 0 {
			t.Errorf("%s (%s) has no committed corpus in testdata/fuzz/%s", ft.name, ft.dir, ft.name)
		}
	}
}

// TestFuzzBriefly fuzzes each target for a few seconds (ROSTER_FUZZTIME,
// default 4s), starting from its corpus. CI runs it (CI=true); elsewhere set
// ROSTER_FUZZ=1, or fuzz one target for longer:
//
//	go test -run '^$' -fuzz '^FuzzParseCursor$' -fuzztime 1m ./internal/onboarding
//
// An input that fails is written to the target's testdata/fuzz folder;
// commit it with the fix.
func TestFuzzBriefly(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("ROSTER_FUZZ") == "" {
		t.Skip("fuzzing runs in CI (CI=true) or with ROSTER_FUZZ=1")
	}
	fuzztime := os.Getenv("ROSTER_FUZZTIME")
	if fuzztime == "" {
		fuzztime = "4s"
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("fuzzing needs the go command on PATH: %v", err)
	}
	for _, ft := range fuzzTargets(t) {
		t.Run(ft.name, func(t *testing.T) {
			cmd := exec.Command(goBin, "test", "-run", "^$", "-fuzz", "^"+ft.name+"$", "-fuzztime", fuzztime,
				"-parallel", "1", "./"+filepath.ToSlash(ft.dir))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("go test -fuzz %s ./%s: %v\n%s", ft.name, ft.dir, err, out.String())
			}
			if !strings.Contains(out.String(), "fuzz: elapsed") {
				t.Fatalf("%s did not fuzz:\n%s", ft.name, out.String())
			}
		})
	}
}
