package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// config is every setting Roster reads from the environment. loadConfig is
// the only code that reads it.
type config struct {
	Addr          string
	BaseURL       string
	DatabasePath  string
	SessionSecret string
	SessionIdle   time.Duration
	SessionMaxAge time.Duration
	AdminEmail    string
	AdminPassword string
	LogLevel      string

	WorkOSAPIKey        string
	WorkOSBaseURL       string
	WorkOSWebhookSecret string
	SyncInterval        time.Duration

	SMTPURL   string
	MailFrom  string
	InviteTTL time.Duration

	SandboxAddr          string
	SandboxAPIKey        string
	SandboxPreset        string
	SandboxSeed          int64
	SandboxState         string
	SandboxWebhookURL    string
	SandboxWebhookSecret string
	SandboxRateLimit     bool

	GCPercent int // the Go garbage collector's target (GOGC); -1 = off
}

// Demo reports demo mode: no WorkOS key, so the built-in sandbox serves the
// directory data.
func (c config) Demo() bool { return c.WorkOSAPIKey == "" }

// setting documents one environment variable for `roster help`.
type setting struct {
	name, def, help string
	set             func(c *config, v string) error
}

func str(dst func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error { *dst(c) = v; return nil }
}

func dur(dst func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 10s or 12h, got %q", v)
		}
		*dst(c) = d
		return nil
	}
}

var settings = []setting{
	{"ADDR", ":8080", "address the web server listens on", str(func(c *config) *string { return &c.Addr })},
	{"BASE_URL", "http://localhost:8080", "public URL of Roster, used in links; https turns on Secure cookies", str(func(c *config) *string { return &c.BaseURL })},
	{"DATABASE_PATH", "data/roster.db", "SQLite database file (folders are created)", str(func(c *config) *string { return &c.DatabasePath })},
	{"SESSION_SECRET", "", "secret for session cookies; empty: generated once and kept in the database", str(func(c *config) *string { return &c.SessionSecret })},
	{"SESSION_IDLE_TIMEOUT", "12h", "a session unused this long ends", dur(func(c *config) *time.Duration { return &c.SessionIdle })},
	{"SESSION_MAX_AGE", "168h", "a session ends this long after sign-in", dur(func(c *config) *time.Duration { return &c.SessionMaxAge })},
	{"ADMIN_EMAIL", "", "with ADMIN_PASSWORD: create this platform admin, or reset its password, at start", str(func(c *config) *string { return &c.AdminEmail })},
	{"ADMIN_PASSWORD", "", "see ADMIN_EMAIL (at least 10 characters)", str(func(c *config) *string { return &c.AdminPassword })},
	{"LOG_LEVEL", "info", "debug, info, warn or error", str(func(c *config) *string { return &c.LogLevel })},
	{"WORKOS_API_KEY", "", "WorkOS API key (sk_…); empty: demo mode with the built-in sandbox", str(func(c *config) *string { return &c.WorkOSAPIKey })},
	{"WORKOS_BASE_URL", "https://api.workos.com", "WorkOS API base URL", str(func(c *config) *string { return &c.WorkOSBaseURL })},
	{"WORKOS_WEBHOOK_SECRET", "", "secret that signs WorkOS webhooks to /webhooks/workos; empty in demo: generated", str(func(c *config) *string { return &c.WorkOSWebhookSecret })},
	{"SYNC_INTERVAL", "10s", "how often the events poller runs (1s in demo mode unless set)", dur(func(c *config) *time.Duration { return &c.SyncInterval })},
	{"SMTP_URL", "", "smtp://user:pass@host:587 (STARTTLS) or smtps://…:465; empty: the built-in Mailbox page", str(func(c *config) *string { return &c.SMTPURL })},
	{"MAIL_FROM", "Roster <roster@localhost>", "sender of invitation emails", str(func(c *config) *string { return &c.MailFrom })},
	{"INVITE_TTL", "168h", "how long an invitation stays valid", dur(func(c *config) *time.Duration { return &c.InviteTTL })},
	{"SANDBOX_ADDR", "127.0.0.1:8081", "demo mode and `roster sandbox`: where the sandbox listens", str(func(c *config) *string { return &c.SandboxAddr })},
	{"SANDBOX_API_KEY", "sk_test_sandbox", "API key the sandbox accepts", str(func(c *config) *string { return &c.SandboxAPIKey })},
	{"SANDBOX_PRESET", "demo", "sandbox data: demo, small, large or empty", str(func(c *config) *string { return &c.SandboxPreset })},
	{"SANDBOX_SEED", "1", "seed of the sandbox's generated data", func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", v)
		}
		c.SandboxSeed = n
		return nil
	}},
	{"SANDBOX_STATE", "", "file that keeps the sandbox's state across restarts", str(func(c *config) *string { return &c.SandboxState })},
	{"SANDBOX_WEBHOOK_URL", "", "where the sandbox POSTs webhooks; empty in demo: Roster's own /webhooks/workos", str(func(c *config) *string { return &c.SandboxWebhookURL })},
	{"SANDBOX_WEBHOOK_SECRET", "", "secret the sandbox signs webhooks with; empty in demo: WORKOS_WEBHOOK_SECRET", str(func(c *config) *string { return &c.SandboxWebhookSecret })},
	{"GOGC", "200", "Go garbage collector target, in % of live heap (Go's own default is 100; off disables it)", func(c *config, v string) error {
		if strings.EqualFold(v, "off") {
			c.GCPercent = -1
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("want a positive whole number or off, got %q", v)
		}
		c.GCPercent = n
		return nil
	}},
	{"SANDBOX_RATE_LIMIT", "true", "enforce WorkOS's 4 requests/s per directory on /directory_users", func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		c.SandboxRateLimit = b
		return nil
	}},
}

// loadConfig reads every setting, applying defaults; it names each bad
// value so that a person can fix it.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var problems []string
	for _, s := range settings {
		v := strings.TrimSpace(getenv(s.name))
		if v == "" {
			v = s.def
		}
		if v == "" {
			continue
		}
		if err := s.set(&c, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", s.name, err))
		}
	}
	if getenv("SYNC_INTERVAL") == "" && c.Demo() {
		c.SyncInterval = time.Second
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("BASE_URL: want an http(s) URL, got %q", c.BaseURL))
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		problems = append(problems, "ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither")
	}
	if c.SyncInterval <= 0 {
		problems = append(problems, "SYNC_INTERVAL: must be above zero")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// printHelp lists the subcommands and every setting with its default.
func printHelp(w io.Writer) {
	fmt.Fprint(w, `Roster onboards people from a company directory (WorkOS Directory Sync).

Usage:
  roster            run the web app (demo mode with the built-in sandbox unless WORKOS_API_KEY is set)
  roster sandbox    run only the WorkOS-compatible sandbox (flags: -addr, -key, -preset, -seed, -state)
  roster bench      measure Roster end to end against the large sandbox; JSON lines on stdout (roster bench -h)
  roster help       show this help

Environment (default in brackets):
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "unset"
		}
		fmt.Fprintf(tw, "  %s\t[%s]\t%s\n", s.name, def, s.help)
	}
	tw.Flush()
}
