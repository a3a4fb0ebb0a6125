// Package tests holds Roster's end-to-end tests: the real roster binary,
// started as a process with a temp database and its sandbox, driven through
// HTTP and a real Chromium (chromedp). Screenshots of each step go to
// tests/artifacts/<test>/.
package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var rosterBin string

func TestMain(m *testing.M) {
	// ROSTER_BIN runs a binary built beforehand instead of building one
	// (e.g. to test one build repeatedly while the tree is changing).
	if bin := os.Getenv("ROSTER_BIN"); bin != "" {
		rosterBin = bin
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "roster-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rosterBin = filepath.Join(dir, "roster")
	build := exec.Command("go", "build", "-o", rosterBin, ".")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build roster:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// app is one running roster process.
type app struct {
	URL, SandboxURL string
	Email, Password string
	DBPath          string
	cmd             *exec.Cmd
	out             *lockedBuffer
	done            chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var passwordLine = regexp.MustCompile(`as (\S+@\S+) with password (\S+)`)

// startApp runs roster in demo mode (its own sandbox) on free loopback
// ports with a temp database, and waits until it serves.
func startApp(t *testing.T, env ...string) *app {
	t.Helper()
	addr, sbAddr := freePort(t), freePort(t)
	dir := t.TempDir()
	a := &app{URL: "http://" + addr, SandboxURL: "http://" + sbAddr, DBPath: filepath.Join(dir, "roster.db"), out: &lockedBuffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(rosterBin)
	a.cmd.Env = append(os.Environ(),
		"ADDR="+addr, "BASE_URL="+a.URL, "DATABASE_PATH="+a.DBPath,
		"SANDBOX_ADDR="+sbAddr, "SANDBOX_PRESET=demo", "LOG_LEVEL=warn",
		"WORKOS_API_KEY=", "ADMIN_EMAIL=", "ADMIN_PASSWORD=", "SMTP_URL=",
	)
	a.cmd.Env = append(a.cmd.Env, env...)
	pr, pw := io.Pipe()
	a.cmd.Stdout = io.MultiWriter(a.out, pw)
	a.cmd.Stderr = a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); pw.Close(); close(a.done) }()
	t.Cleanup(func() {
		a.stop(t)
		if t.Failed() {
			t.Logf("roster output:\n%s", a.out.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			if m := passwordLine.FindStringSubmatch(sc.Text()); m != nil {
				a.Email, a.Password = m[1], m[2]
			}
			if strings.HasPrefix(sc.Text(), "Roster is running") && !signalled {
				close(ready)
				signalled = true
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-ready:
	case <-a.done:
		t.Fatalf("roster exited early:\n%s", a.out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("roster did not start within 60 s:\n%s", a.out.String())
	}
	return a
}

// stop sends SIGTERM and waits for a clean exit.
func (a *app) stop(t *testing.T) {
	select {
	case <-a.done:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(20 * time.Second):
		_ = a.cmd.Process.Kill()
		t.Errorf("roster did not stop within 20 s of SIGTERM")
	}
}

// needBrowser returns the Chromium path, or skips (fails under CI=true).
func needBrowser(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed, and CI=true requires the browser tests to run (apt-get install -y chromium)")
	}
	t.Skip("Chromium not installed; skipping browser test (install the chromium package to run it)")
	return ""
}

// browser is a headless Chromium tab bound to a test, with a screenshot
// folder.
type browser struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	step int
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return openBrowser(t, true)
}

// openBrowser starts a Chromium; clean empties the test's screenshot
// folder first (a second browser of the same test keeps the first's shots).
func openBrowser(t *testing.T, clean bool) *browser {
	t.Helper()
	path := needBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Bounded, with room for a loaded machine (a journey takes about a
	// minute and a half on an idle one).
	ctx, tcancel := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(func() { tcancel(); cancel(); acancel() })
	dir := filepath.Join("artifacts", sanitize(t.Name()))
	if clean {
		os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, dir: dir}
}

// fresh returns a second, independent browser (its own cookies), e.g. for
// an invitee.
func (b *browser) fresh() *browser {
	nb := openBrowser(b.t, false)
	nb.dir = b.dir
	nb.step = 100 + b.step
	return nb
}

func sanitize(s string) string {
	return regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(s, "_")
}

// do runs steps, failing the test with a screenshot on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.shot("FAILED-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a full-page PNG for the current step.
func (b *browser) shot(name string) {
	b.t.Helper()
	b.step++
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.step, sanitize(name)))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Logf("write screenshot: %v", err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.shot("FAILED-text")
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}
