package main

// `roster bench` measures the whole app end to end against the sandbox run
// as a separate process, and prints one JSON object per metric on stdout:
//
//	{"metric":"backfill_users_per_s","value":18234.5,"unit":"users/s","target":15000}
//
// Logs and the per-phase breakdown go to stderr. The scenarios share one
// replica: the backfill fills a fresh temporary database, the others read
// and write it in turn. See README.md "Performance".

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"roster/internal/db"
)

// benchOptions are the flags of `roster bench`.
type benchOptions struct {
	only        []string // metric prefixes or scenario names; empty = all
	preset      string
	keep        bool
	reuse       string // -db: an existing database instead of a backfill
	cpuProfile  string
	events      int
	invite      int
	cursors     int
	walk        int // most pages walked to collect page positions; 0 = all
	searchTerms int
	clients     int
	loadFor     time.Duration
	quotaWindow time.Duration
	verbose     bool
}

// benchScenarios lists the scenarios in run order and the metrics each
// emits; -only accepts either.
var benchScenarios = []struct {
	name    string
	metrics []string
}{
	{"backfill", []string{"backfill_users_per_s", "backfill_peak_rss_mb"}},
	{"invite", []string{"invite_10k_ms"}},
	{"events", []string{"events_applied_per_s"}},
	{"users_page", []string{"users_page_p50_ms", "users_page_p99_ms", "users_page_rps_32", "users_page_p99_ms_32"}},
	{"group", []string{"group_members_page_p99_ms"}},
	{"search", []string{"search_p99_ms"}},
	{"quota", []string{"backfill_quota_use", "backfill_429s"}},
}

// benchTargets are the targets; higher says which way is good.
var benchTargets = map[string]struct {
	unit   string
	target float64
	higher bool
}{
	"backfill_users_per_s":      {"users/s", 15000, true},
	"backfill_peak_rss_mb":      {"MiB", 64, false},
	"backfill_quota_use":        {"ratio", 0.95, true},
	"backfill_429s":             {"count", 0, false},
	"events_applied_per_s":      {"events/s", 10000, true},
	"invite_10k_ms":             {"ms", 300, false},
	"users_page_p50_ms":         {"ms", 1.5, false},
	"users_page_p99_ms":         {"ms", 5, false},
	"users_page_rps_32":         {"req/s", 2000, true},
	"users_page_p99_ms_32":      {"ms", 60, false},
	"group_members_page_p99_ms": {"ms", 5, false},
	"search_p99_ms":             {"ms", 15, false},
}

// benchLine is one line of output.
type benchLine struct {
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target float64 `json:"target"`
}

// bench is one run: its options, outputs and the shared fixtures.
type bench struct {
	opts benchOptions
	out  io.Writer
	log  *slog.Logger

	sb      *benchSandbox
	dbPath  string
	tmpDir  string
	store   *db.DB
	dirID   string
	orgID   string
	emitted []benchLine
	skipped []string
}

func parseBenchFlags(args []string, stderr io.Writer) (benchOptions, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := benchOptions{}
	only := fs.String("only", "", "run only these scenarios or metrics (comma-separated names or metric prefixes): "+scenarioNames())
	fs.StringVar(&o.preset, "preset", "large", "sandbox data: large (100k users, 2k groups), demo or small")
	fs.BoolVar(&o.keep, "keep", false, "keep the database and print its path")
	fs.StringVar(&o.reuse, "db", "", "measure an existing database (one kept with -keep) instead of backfilling a new one; it is changed by the invite and events scenarios")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.IntVar(&o.events, "events", 100_000, "size of the event backlog to apply")
	fs.IntVar(&o.invite, "invite", 10_000, "people to preview and invite")
	fs.IntVar(&o.cursors, "cursors", 2000, "random page positions requested by one client")
	fs.IntVar(&o.walk, "walk", 0, "walk at most this many pages to collect positions (0: the whole list); a quick look on a slow machine")
	fs.IntVar(&o.searchTerms, "terms", 200, "distinct search terms (each searched 5 times)")
	fs.IntVar(&o.clients, "clients", 32, "concurrent clients of the load test")
	fs.DurationVar(&o.loadFor, "load", 10*time.Second, "duration of the concurrent load test")
	fs.DurationVar(&o.quotaWindow, "quota-window", 30*time.Second, "window over which the rate-limited request rate is measured")
	fs.BoolVar(&o.verbose, "v", false, "log the sync and web server too")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: roster bench [flags]\n\nMeasures Roster end to end against the sandbox (a separate process) on a fresh temporary database; one JSON line per metric on stdout.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.only = append(o.only, s)
		}
	}
	for _, s := range o.only {
		if !knownSelector(s) {
			return o, fmt.Errorf("bench: -only %q matches no scenario or metric (%s)", s, scenarioNames())
		}
	}
	switch o.preset {
	case "large", "demo", "small":
	default:
		return o, fmt.Errorf("bench: -preset %q: want large, demo or small", o.preset)
	}
	if o.events < 0 || o.invite < 0 || o.cursors < 1 || o.walk < 0 || o.searchTerms < 1 || o.clients < 1 || o.loadFor <= 0 || o.quotaWindow <= 0 {
		return o, errors.New("bench: sizes and durations must be positive")
	}
	return o, nil
}

func scenarioNames() string {
	var n []string
	for _, s := range benchScenarios {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

func knownSelector(sel string) bool {
	for _, s := range benchScenarios {
		if s.name == sel {
			return true
		}
		for _, m := range s.metrics {
			if strings.HasPrefix(m, sel) {
				return true
			}
		}
	}
	return false
}

// wants reports whether a metric was asked for.
func (o benchOptions) wants(metric string) bool {
	if len(o.only) == 0 {
		return true
	}
	for _, sel := range o.only {
		// A scenario name selects that scenario's metrics only: "backfill"
		// is not also the prefix of backfill_quota_use.
		if isScenario(sel) {
			for _, s := range benchScenarios {
				if s.name == sel && contains(s.metrics, metric) {
					return true
				}
			}
			continue
		}
		if strings.HasPrefix(metric, sel) {
			return true
		}
	}
	return false
}

func isScenario(name string) bool {
	for _, s := range benchScenarios {
		if s.name == name {
			return true
		}
	}
	return false
}

// wantsScenario reports whether any metric of a scenario was asked for.
func (o benchOptions) wantsScenario(name string) bool {
	for _, s := range benchScenarios {
		if s.name != name {
			continue
		}
		for _, m := range s.metrics {
			if o.wants(m) {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// runBench is `roster bench`.
func runBench(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	opts, err := parseBenchFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	b := &bench{opts: opts, out: stdout, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: -cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: -cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	err = b.run(ctx)
	b.close()
	b.summary(time.Since(start))
	return err
}

func (b *bench) run(ctx context.Context) error {
	var err error
	b.tmpDir, err = os.MkdirTemp("", "roster-bench-")
	if err != nil {
		return fmt.Errorf("bench: temp dir: %w", err)
	}
	b.dbPath = filepath.Join(b.tmpDir, "roster.db")
	needReplica := false
	for _, s := range benchScenarios {
		if s.name != "quota" && b.opts.wantsScenario(s.name) {
			needReplica = true
		}
	}
	backfill := needReplica && b.opts.reuse == ""
	if backfill || b.opts.wantsScenario("events") || b.opts.wantsScenario("quota") {
		b.log.Info("bench: starting the sandbox", "preset", b.opts.preset, "cpus", runtime.NumCPU(), "load_average", loadAverage())
		if b.sb, err = startBenchSandbox(ctx, b.opts.preset, b.log); err != nil {
			return err
		}
		b.log.Info("bench: sandbox ready", "url", b.sb.url, "seeded_in", b.sb.ready.Round(time.Millisecond))
	}
	switch {
	case backfill:
		if err := b.backfill(ctx); err != nil {
			return err
		}
	case needReplica:
		if err := b.openExisting(ctx); err != nil {
			return err
		}
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"invite", b.invite},
		{"events", b.events},
	}
	for _, st := range steps {
		if !b.opts.wantsScenario(st.name) {
			continue
		}
		if err := st.fn(ctx); err != nil {
			return err
		}
	}
	if b.opts.wantsScenario("users_page") || b.opts.wantsScenario("group") || b.opts.wantsScenario("search") {
		if err := b.web(ctx); err != nil {
			return err
		}
	}
	if b.opts.wantsScenario("quota") {
		if err := b.quota(ctx); err != nil {
			return err
		}
	}
	return nil
}

// emit prints one metric line if it was asked for.
func (b *bench) emit(metric string, value float64) {
	if !b.opts.wants(metric) {
		return
	}
	t := benchTargets[metric]
	line := benchLine{Metric: metric, Value: round3(value), Unit: t.unit, Target: t.target}
	raw, _ := json.Marshal(line)
	fmt.Fprintf(b.out, "%s\n", raw)
	b.emitted = append(b.emitted, line)
}

// skip records a metric that could not be measured, and why.
func (b *bench) skip(metric, why string) {
	if !b.opts.wants(metric) {
		return
	}
	b.skipped = append(b.skipped, metric)
	b.log.Warn("bench: metric not measured", "metric", metric, "why", why)
}

// round3 keeps three significant decimals: enough for a report, and it
// keeps the JSON readable.
func round3(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	mag := math.Pow(10, 3-math.Ceil(math.Log10(math.Abs(v))))
	if mag < 1 {
		return math.Round(v)
	}
	return math.Round(v*mag) / mag
}

func (b *bench) close() {
	if b.store != nil {
		b.store.Close()
	}
	if b.sb != nil {
		b.sb.stop(b.log)
	}
	if b.tmpDir == "" {
		return
	}
	if b.opts.keep {
		fmt.Fprintf(os.Stderr, "bench: database kept at %s\n", b.dbPath)
		return
	}
	os.RemoveAll(b.tmpDir)
}

// summary logs each metric against its target.
func (b *bench) summary(took time.Duration) {
	for _, l := range b.emitted {
		t := benchTargets[l.Metric]
		met := l.Value <= t.target
		cmp := "≤"
		if t.higher {
			met, cmp = l.Value >= t.target, "≥"
		}
		verdict := "met"
		if !met {
			verdict = "MISSED"
		}
		b.log.Info("bench: result", "metric", l.Metric, "value", l.Value, "unit", l.Unit, "target", cmp+fmt.Sprint(t.target), "verdict", verdict)
	}
	b.log.Info("bench: done", "took", took.Round(time.Second), "load_average", loadAverage(), "metrics", len(b.emitted), "not_measured", strings.Join(b.skipped, ","))
}

// openExisting measures a database kept by an earlier run (-db): its
// directory with most users.
func (b *bench) openExisting(ctx context.Context) error {
	if _, err := os.Stat(b.opts.reuse); err != nil {
		return fmt.Errorf("bench: -db: %w", err)
	}
	var err error
	if b.store, err = db.Open(ctx, b.opts.reuse); err != nil {
		return fmt.Errorf("bench: -db: %w", err)
	}
	states, err := b.store.SyncStates(ctx)
	if err != nil {
		return err
	}
	var best db.SyncState
	for _, st := range states {
		if st.UsersDone >= best.UsersDone {
			best = st
		}
	}
	if best.DirectoryID == "" {
		return errors.New("bench: -db: the database holds no directory")
	}
	b.dirID, b.orgID = best.DirectoryID, best.OrganizationID
	for _, m := range []string{"backfill_users_per_s", "backfill_peak_rss_mb"} {
		b.skip(m, "-db: no backfill")
	}
	b.log.Info("bench: measuring an existing database", "path", b.opts.reuse, "directory", b.dirID, "users", best.UsersDone)
	return nil
}
