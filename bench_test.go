package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"testing"
	"time"
)

// TestMain lets the bench re-execute this test binary as its sandbox
// process, as it re-executes the roster binary in real use.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "sandbox" {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { // the bench interrupts its sandbox when done
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt)
			<-sig
			cancel()
		}()
		if err := run(ctx, os.Args[1:], os.Getenv, io.Discard, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchSmoke runs the whole harness on the small preset and checks the
// output format and that every metric whose feature exists is there. No
// figure is asserted: speed is the bench's business, not the tests'.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() && os.Getenv("CI") == "" {
		t.Log("running the bench on the small preset (a few seconds)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.LogLevel = "warn"
	var stdout, stderr bytes.Buffer
	err = runBench(ctx, cfg, []string{"-preset", "small", "-events", "200", "-invite", "10", "-cursors", "20",
		"-terms", "5", "-clients", "2", "-load", "300ms", "-quota-window", "2s"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}
	got := map[string]benchLine{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		line := sc.Bytes()
		var raw map[string]any
		if err := json.Unmarshal(line, &raw); err != nil {
			t.Fatalf("stdout line is not JSON: %q: %v", line, err)
		}
		for _, k := range []string{"metric", "value", "unit", "target"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("line %s lacks %q", line, k)
			}
		}
		if len(raw) != 4 {
			t.Errorf("line %s has fields beyond metric, value, unit, target", line)
		}
		var l benchLine
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("line %s: %v", line, err)
		}
		if _, ok := benchTargets[l.Metric]; !ok {
			t.Errorf("unknown metric %q", l.Metric)
		}
		if _, dup := got[l.Metric]; dup {
			t.Errorf("metric %q printed twice", l.Metric)
		}
		got[l.Metric] = l
	}
	// These rest on code that exists now; the page metrics join this list
	// once their pages are served (until then the bench says why they are
	// missing, on stderr).
	for _, m := range []string{"backfill_users_per_s", "backfill_peak_rss_mb", "invite_10k_ms",
		"events_applied_per_s", "backfill_quota_use", "backfill_429s"} {
		l, ok := got[m]
		if !ok {
			t.Errorf("metric %q missing; stderr:\n%s", m, stderr.String())
			continue
		}
		if l.Value < 0 || l.Unit == "" {
			t.Errorf("%s: value %v unit %q", m, l.Value, l.Unit)
		}
	}
	for m := range benchTargets {
		if _, ok := got[m]; !ok && !strings.Contains(stderr.String(), "metric="+m) {
			t.Errorf("metric %q neither printed nor reported as not measured", m)
		}
	}
}

// TestBenchOnly checks -only: a scenario name or metric prefix selects
// metrics, and an unknown one is refused with the list of names.
func TestBenchOnly(t *testing.T) {
	o, err := parseBenchFlags([]string{"-only", "users_page_p9,invite"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range map[string]bool{"users_page_p99_ms": true, "users_page_p99_ms_32": true,
		"users_page_p50_ms": false, "invite_10k_ms": true, "backfill_users_per_s": false} {
		if o.wants(m) != want {
			t.Errorf("wants(%q) = %v, want %v", m, !want, want)
		}
	}
	if o.wantsScenario("quota") || !o.wantsScenario("users_page") {
		t.Error("wantsScenario disagrees with wants")
	}
	o, _ = parseBenchFlags([]string{"-only", "backfill"}, io.Discard)
	if o.wants("backfill_quota_use") || !o.wants("backfill_peak_rss_mb") {
		t.Error("-only backfill must select the backfill scenario, not every backfill_ metric")
	}
	if _, err := parseBenchFlags([]string{"-only", "nope"}, io.Discard); err == nil || !strings.Contains(err.Error(), "backfill") {
		t.Errorf("-only nope: %v", err)
	}
	if _, err := parseBenchFlags([]string{"-preset", "huge"}, io.Discard); err == nil {
		t.Error("-preset huge accepted")
	}
}

func TestPercentileAndRound(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := percentile(ds, 50); p != 50*time.Millisecond {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(ds, 99); p != 99*time.Millisecond {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(ds, 100); p != 100*time.Millisecond {
		t.Errorf("p100 = %v", p)
	}
	for in, want := range map[float64]float64{18234.56: 18235, 0.98765: 0.988, 1.23456: 1.23, 0: 0} {
		if got := round3(in); got != want {
			t.Errorf("round3(%v) = %v, want %v", in, got, want)
		}
	}
}
