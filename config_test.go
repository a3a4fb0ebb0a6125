package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig_Defaults(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabasePath != "data/roster.db" || c.BaseURL != "http://localhost:8080" {
		t.Errorf("defaults: %+v", c)
	}
	if !c.Demo() || c.SyncInterval != time.Second {
		t.Errorf("demo mode should poll every second, got demo=%v interval=%v", c.Demo(), c.SyncInterval)
	}
	if c.SandboxAddr != "127.0.0.1:8081" || c.SandboxAPIKey != "sk_test_sandbox" || c.SandboxPreset != "demo" || !c.SandboxRateLimit {
		t.Errorf("sandbox defaults: %+v", c)
	}
	if c.MailFrom != "Roster <roster@localhost>" || c.InviteTTL != 7*24*time.Hour {
		t.Errorf("mail/invite defaults: %q %v", c.MailFrom, c.InviteTTL)
	}
}

func TestLoadConfig_RealMode(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"WORKOS_API_KEY": "sk_live_x", "SYNC_INTERVAL": "30s", "BASE_URL": "https://roster.example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Demo() || c.SyncInterval != 30*time.Second || c.BaseURL != "https://roster.example.com" {
		t.Errorf("got %+v", c)
	}
	c, _ = loadConfig(env(map[string]string{"WORKOS_API_KEY": "sk_live_x"}))
	if c.SyncInterval != 10*time.Second {
		t.Errorf("default interval outside demo = %v, want 10s", c.SyncInterval)
	}
}

func TestLoadConfig_BadValuesNamed(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"SYNC_INTERVAL": "soon", "BASE_URL": "ftp://x", "ADMIN_EMAIL": "a@b.c", "SANDBOX_SEED": "x"}))
	if err == nil {
		t.Fatal("bad values accepted")
	}
	for _, want := range []string{"SYNC_INTERVAL", "BASE_URL", "ADMIN_EMAIL and ADMIN_PASSWORD", "SANDBOX_SEED"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var b bytes.Buffer
	if err := run(t.Context(), []string{"help"}, env(nil), &b, &b); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(b.String(), s.name) {
			t.Errorf("help does not list %s", s.name)
		}
	}
	for _, sub := range []string{"roster sandbox", "roster help"} {
		if !strings.Contains(b.String(), sub) {
			t.Errorf("help does not list %q", sub)
		}
	}
}

func TestLoadConfig_GCPercent(t *testing.T) {
	for in, want := range map[string]int{"": 200, "100": 100, "off": -1, "OFF": -1} {
		c, err := loadConfig(env(map[string]string{"GOGC": in}))
		if err != nil || c.GCPercent != want {
			t.Errorf("GOGC=%q: %d, %v; want %d", in, c.GCPercent, err, want)
		}
	}
	for _, bad := range []string{"0", "-5", "lots"} {
		if _, err := loadConfig(env(map[string]string{"GOGC": bad})); err == nil || !strings.Contains(err.Error(), "GOGC") {
			t.Errorf("GOGC=%q accepted (%v)", bad, err)
		}
	}
}
