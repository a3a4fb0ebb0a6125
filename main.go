// Command roster runs Roster: the admin web app, its background workers
// and, in demo mode, the built-in WorkOS-compatible sandbox.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
	"roster/internal/onboarding"
	"roster/views"
	"roster/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "roster:", err)
		os.Exit(1)
	}
}

// applyRuntime sets the garbage collector's target. Go's default (100)
// collected so often on a small heap that the collector cost a quarter of
// the CPU of a users page under load and of a backfill; at 200 the bench
// measured +25% pages/s and users/s for about 6 MiB more peak memory.
func applyRuntime(cfg config) { debug.SetGCPercent(cfg.GCPercent) }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "serve":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		applyRuntime(cfg)
		return serve(ctx, cfg, stdout, newLogger(cfg, stderr))
	case "sandbox":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		applyRuntime(cfg)
		return runSandbox(ctx, cfg, args, stdout, newLogger(cfg, stderr))
	case "bench":
		cfg, err := loadConfig(getenv)
		if err != nil {
			return err
		}
		applyRuntime(cfg)
		return runBench(ctx, cfg, args, stdout, stderr)
	case "help", "-h", "--help", "-help":
		printHelp(stdout)
		return nil
	default:
		printHelp(stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// serve runs the web app until ctx ends, then shuts down in order:
// stop taking requests and let in-flight ones finish, stop the workers,
// close the database.
func serve(ctx context.Context, cfg config, stdout io.Writer, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (ADDR): %w", cfg.Addr, err)
	}
	defer ln.Close()

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var workers sync.WaitGroup
	defer workers.Wait()
	defer stopWork()

	apiKey, baseURL := cfg.WorkOSAPIKey, cfg.WorkOSBaseURL
	webhookSecret := cfg.WorkOSWebhookSecret
	var sandboxURL string
	if cfg.Demo() {
		if webhookSecret == "" {
			webhookSecret = onboarding.RandomToken(24)
		}
		sb, url, err := startDemoSandbox(workCtx, cfg, ln.Addr(), webhookSecret, log, &workers)
		if err != nil {
			return err
		}
		defer sb.Close()
		apiKey, baseURL, sandboxURL = cfg.SandboxAPIKey, url, url
	}

	store, err := db.Open(ctx, cfg.DatabasePath)
	if err != nil {
		return fmt.Errorf("database %s (DATABASE_PATH): %w", cfg.DatabasePath, err)
	}
	defer store.Close()

	auth := onboarding.NewAuth(store)
	hint, err := ensureAdmin(ctx, cfg, auth, stdout)
	if err != nil {
		return err
	}
	hashKey, blockKey, err := auth.SessionKeys(ctx, cfg.SessionSecret)
	if err != nil {
		return err
	}

	client := dirsync.New(dirsync.Config{BaseURL: baseURL, APIKey: apiKey, UserAgent: "roster/" + dirsync.Version})
	app := &onboarding.Service{DB: store, Log: log, BaseURL: cfg.BaseURL, Demo: cfg.Demo(), InviteTTL: cfg.InviteTTL, WorkOS: client,
		InvitationHTML: invitationHTML}
	syncer := onboarding.NewSyncer(store, client, log.With("component", "sync"))
	syncer.Interval = cfg.SyncInterval
	syncer.OnEvent = app.AccountEffects() // account changes commit with the replica change and the cursor
	syncer.OnChanges = app.ReconcileEffects()
	sender, err := onboarding.NewSender(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		return err
	}
	mailer := &onboarding.Mailer{DB: store, Sender: sender, Log: log.With("component", "mail")}
	if cfg.Demo() {
		mailer.Interval = time.Second // the Mailbox shows invitations at once in a demo
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(syncer.Collectors()...)
	reg.MustRegister(mailer.Collectors()...)
	reg.MustRegister(app.InviteCollectors()...)
	reg.MustRegister(app.PolicyCollectors()...)

	for name, run := range map[string]func(context.Context) error{
		"sync":          syncer.Run,
		"mail":          mailer.Run,
		"policies":      app.RunPolicies,
		"organizations": func(ctx context.Context) error { return app.RunOrganizations(ctx, 5*time.Minute) },
	} {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if err := run(workCtx); err != nil && workCtx.Err() == nil {
				log.Error("background worker stopped", "worker", name, "err", err)
			}
		}()
	}

	srv := &web.Server{
		Config: web.Config{
			BaseURL: cfg.BaseURL, Demo: cfg.Demo(), SessionIdle: cfg.SessionIdle, SessionMaxAge: cfg.SessionMaxAge,
			WebhookSecret: webhookSecret, LoginHint: hint, SandboxURL: sandboxURL,
			SessionHashKey: hashKey, SessionBlock: blockKey,
		},
		Log: log, Auth: auth, App: app, Syncer: syncer, Mailer: mailer, Registry: reg,
		Ready: store.Ping,
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	fmt.Fprintf(stdout, "Roster is running at %s (listening on %s)\n", cfg.BaseURL, ln.Addr())
	if cfg.Demo() {
		fmt.Fprintf(stdout, "Demo mode: directory data comes from the built-in sandbox at %s/_sandbox/\n", sandboxURL)
	}

	select {
	case err := <-served:
		return fmt.Errorf("web server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	stopWork()
	workers.Wait()
	log.Info("stopped")
	return nil
}

// invitationHTML renders the HTML part of an invitation email with the
// views (onboarding composes the rest).
func invitationHTML(e onboarding.InvitationEmail) (string, error) {
	return views.RenderInvitationEmail(views.InvitationEmailVM(e))
}

// ensureAdmin makes sure someone can sign in, and says how. It returns the
// hint to show under the sign-in form in demo mode.
func ensureAdmin(ctx context.Context, cfg config, auth *onboarding.Auth, stdout io.Writer) (string, error) {
	if cfg.AdminEmail != "" {
		created, err := auth.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return "", fmt.Errorf("ADMIN_EMAIL/ADMIN_PASSWORD: %w", err)
		}
		verb := "password reset for"
		if created {
			verb = "created"
		}
		fmt.Fprintf(stdout, "Admin %s %s: sign in with ADMIN_PASSWORD.\n", verb, cfg.AdminEmail)
		return "", nil
	}
	if cfg.Demo() {
		email, pw, ok, err := auth.EnsureDemoAdmin(ctx)
		if err != nil {
			return "", err
		}
		if ok {
			fmt.Fprintf(stdout, "Sign in at %s/login as %s with password %s\n", cfg.BaseURL, email, pw)
			return "Demo: sign in as " + email + " with the password printed where Roster was started.", nil
		}
		return "", nil
	}
	tok, err := auth.EnsureFirstAdminLink(ctx)
	if err != nil {
		return "", err
	}
	if tok != "" {
		fmt.Fprintf(stdout, "No admin yet. Create the first one within 72 hours at: %s/setup/%s\n", cfg.BaseURL, tok)
	}
	return "", nil
}

// startDemoSandbox runs the sandbox in-process for demo mode, sending its
// webhooks to this Roster.
func startDemoSandbox(ctx context.Context, cfg config, appAddr net.Addr, webhookSecret string, log *slog.Logger, wg *sync.WaitGroup) (*sandbox.Sandbox, string, error) {
	hookURL, hookSecret := cfg.SandboxWebhookURL, cfg.SandboxWebhookSecret
	if hookURL == "" {
		hookURL = "http://" + loopbackAddr(appAddr) + "/webhooks/workos"
	}
	if hookSecret == "" {
		hookSecret = webhookSecret
	}
	sb, err := sandbox.New(sandbox.Options{
		APIKey: cfg.SandboxAPIKey, Preset: cfg.SandboxPreset, Seed: cfg.SandboxSeed, StatePath: cfg.SandboxState,
		WebhookURL: hookURL, WebhookSecret: hookSecret, RateLimit: cfg.SandboxRateLimit,
		PublicURL: "http://" + cfg.SandboxAddr, Logger: log.With("component", "sandbox"),
	})
	if err != nil {
		return nil, "", fmt.Errorf("sandbox: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.SandboxAddr)
	if err != nil {
		sb.Close()
		return nil, "", fmt.Errorf("sandbox: listen on %s (SANDBOX_ADDR): %w", cfg.SandboxAddr, err)
	}
	hs := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = hs.Shutdown(sctx)
		}()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("sandbox stopped", "err", err)
		}
	}()
	return sb, "http://" + ln.Addr().String(), nil
}

// loopbackAddr turns a listen address such as [::]:8080 into 127.0.0.1:8080.
func loopbackAddr(a net.Addr) string {
	_, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return "127.0.0.1:" + port
}

// runSandbox runs the sandbox alone, for SDKs, curl and the bench.
func runSandbox(ctx context.Context, cfg config, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	addr := fs.String("addr", cfg.SandboxAddr, "listen address")
	key := fs.String("key", cfg.SandboxAPIKey, "API key to accept")
	preset := fs.String("preset", cfg.SandboxPreset, "demo, small, large or empty")
	seed := fs.Int64("seed", cfg.SandboxSeed, "seed of the generated data")
	state := fs.String("state", cfg.SandboxState, "file that keeps state across restarts")
	rateLimit := fs.Bool("rate-limit", cfg.SandboxRateLimit, "enforce 4 requests/s per directory on /directory_users")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := sandbox.New(sandbox.Options{
		APIKey: *key, Preset: *preset, Seed: *seed, StatePath: *state, RateLimit: *rateLimit,
		WebhookURL: cfg.SandboxWebhookURL, WebhookSecret: cfg.SandboxWebhookSecret,
		PublicURL: "http://" + strings.TrimPrefix(*addr, "http://"), Logger: log,
	})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer sb.Close()
	fmt.Fprintf(stdout, "WorkOS sandbox on http://%s (API key %s, preset %s). Control page: http://%s/_sandbox/\n", *addr, *key, *preset, *addr)
	return sb.ListenAndServe(ctx, *addr)
}
