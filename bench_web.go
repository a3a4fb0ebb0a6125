package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/db"
	"roster/internal/onboarding"
	"roster/web"
)

// benchWeb is the real web.Server on a loopback listener with a signed-in
// HTTP client.
type benchWeb struct {
	base string
	hc   *http.Client
	srv  *http.Server
}

const (
	benchAdminEmail = "bench-web@roster.example"
	benchAdminPass  = "bench-password-2"
)

func (b *bench) startWeb(ctx context.Context) (*benchWeb, error) {
	auth := onboarding.NewAuth(b.store)
	auth.BcryptCost = 4
	if _, err := auth.EnsureAdmin(ctx, benchAdminEmail, benchAdminPass); err != nil {
		return nil, err
	}
	hashKey, blockKey, err := auth.SessionKeys(ctx, "bench-session-secret")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	log := b.syncLog()
	app := b.service(base)
	srv := &web.Server{
		Config: web.Config{BaseURL: base, SessionIdle: time.Hour, SessionMaxAge: time.Hour,
			SessionHashKey: hashKey, SessionBlock: blockKey},
		Log: log, Auth: auth, App: app, Registry: prometheus.NewRegistry(), Ready: b.store.Ping,
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = hs.Serve(ln) }()

	jar, _ := cookiejar.New(nil)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 128, 128
	w := &benchWeb{base: base, srv: hs, hc: &http.Client{Jar: jar, Transport: tr, Timeout: time.Minute}}
	if err := w.signIn(ctx); err != nil {
		hs.Close()
		return nil, err
	}
	return w, nil
}

func (w *benchWeb) close() { _ = w.srv.Close() }

// signIn signs in through the form, as a person would.
func (w *benchWeb) signIn(ctx context.Context) error {
	doc, status, err := w.getDoc(ctx, "/login")
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("bench: GET /login: status %d: %v", status, err)
	}
	csrf, _ := doc.Find(`input[name=_csrf]`).Attr("value")
	form := url.Values{"email": {benchAdminEmail}, "password": {benchAdminPass}, "_csrf": {csrf}, "next": {"/account"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.hc.Do(req)
	if err != nil {
		return fmt.Errorf("bench: sign in: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" || resp.StatusCode >= 400 {
		return fmt.Errorf("bench: sign in failed: %s at %s", resp.Status, resp.Request.URL.Path)
	}
	return nil
}

func (w *benchWeb) getDoc(ctx context.Context, path string) (*goquery.Document, int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	return doc, resp.StatusCode, err
}

// get fetches path, reads the whole body and returns the time it took.
func (w *benchWeb) get(ctx context.Context, path string) (time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	t0 := time.Now()
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return d, err
	}
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return d, nil
}

// nextLink finds the page's link to the next page: rel=next, else the
// first link carrying an after= cursor.
func nextLink(doc *goquery.Document, base string) string {
	href, ok := doc.Find(`a[rel~=next]`).First().Attr("href")
	if !ok {
		doc.Find(`a[href*="after="]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
			href, ok = s.Attr("href")
			return !ok
		})
	}
	if !ok || href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	bu, _ := url.Parse(base)
	return bu.ResolveReference(u).RequestURI()
}

// walk follows next links from first, returning every page's URL (first
// included), at most max.
func (w *benchWeb) walk(ctx context.Context, first string, max int) ([]string, error) {
	urls := []string{first}
	cur := first
	for len(urls) < max {
		doc, status, err := w.getDoc(ctx, cur)
		if err != nil {
			return urls, err
		}
		if status != http.StatusOK {
			return urls, fmt.Errorf("GET %s: status %d", cur, status)
		}
		next := nextLink(doc, w.base)
		if next == "" || next == cur {
			break
		}
		urls = append(urls, next)
		cur = next
	}
	return urls, nil
}

// withLimit sets limit=n on a page URL.
func withLimit(u string, n int) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set("limit", fmt.Sprint(n))
	p.RawQuery = q.Encode()
	return p.RequestURI()
}

// sequential requests each URL once in the given order, one at a time.
func (w *benchWeb) sequential(ctx context.Context, urls []string) ([]time.Duration, error) {
	out := make([]time.Duration, 0, len(urls))
	for _, u := range urls {
		d, err := w.get(ctx, u)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// percentile returns the p-th percentile (0–100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// web runs the page scenarios against the real handler.
func (b *bench) web(ctx context.Context) error {
	w, err := b.startWeb(ctx)
	if err != nil {
		return err
	}
	defer w.close()
	rnd := rand.New(rand.NewPCG(3, 4))
	usersPath := "/directories/" + url.PathEscape(b.dirID) + "/users"

	if b.opts.wantsScenario("users_page") {
		if err := b.usersPage(ctx, w, rnd, usersPath); err != nil {
			return err
		}
	}
	if b.opts.wantsScenario("group") {
		if err := b.groupPage(ctx, w, rnd); err != nil {
			return err
		}
	}
	if b.opts.wantsScenario("search") {
		if err := b.search(ctx, w, rnd, usersPath); err != nil {
			return err
		}
	}
	return nil
}

var errNoPage = errors.New("page not served")

// pageReady checks that a page answers 200, so a feature not built yet is
// reported as not measured rather than as a failure.
func (w *benchWeb) pageReady(ctx context.Context, path string) error {
	_, status, err := w.getDoc(ctx, path)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%w: GET %s answered %d", errNoPage, path, status)
	}
	return nil
}

func (b *bench) usersPage(ctx context.Context, w *benchWeb, rnd *rand.Rand, usersPath string) error {
	names := []string{"users_page_p50_ms", "users_page_p99_ms", "users_page_rps_32", "users_page_p99_ms_32"}
	if err := w.pageReady(ctx, usersPath+"?limit=100"); err != nil {
		for _, n := range names {
			b.skip(n, err.Error())
		}
		return nil
	}
	// Every page start of the list (1,000 at 100 a page); the measured
	// requests pick among them at random.
	t0 := time.Now()
	pages, err := w.walk(ctx, usersPath+"?limit=100", b.walkMax())
	if err != nil {
		return fmt.Errorf("bench: walk the users pages: %w", err)
	}
	b.log.Info("bench: walked the users pages", "pages", len(pages), "took_s", time.Since(t0).Seconds())
	if len(pages) < 2 {
		b.log.Warn("bench: the users page has no next link; measuring the first page only")
	}
	urls := make([]string, b.opts.cursors)
	for i := range urls {
		urls[i] = withLimit(pages[rnd.IntN(len(pages))], 100)
	}
	if _, err := w.sequential(ctx, urls[:min(200, len(urls))]); err != nil { // warm-up
		return fmt.Errorf("bench: users page: %w", err)
	}
	lat, err := w.sequential(ctx, urls)
	if err != nil {
		return fmt.Errorf("bench: users page: %w", err)
	}
	b.emit("users_page_p50_ms", ms(percentile(lat, 50)))
	b.emit("users_page_p99_ms", ms(percentile(lat, 99)))

	if !b.opts.wants("users_page_rps_32") && !b.opts.wants("users_page_p99_ms_32") {
		return nil
	}
	rps, all, errs := w.load(ctx, urls, b.opts.clients, 2*time.Second, b.opts.loadFor)
	if errs > 0 {
		b.log.Warn("bench: failed requests under load", "errors", errs)
	}
	b.log.Info("bench: users page under load", "clients", b.opts.clients, "requests", len(all),
		"p50_ms", ms(percentile(all, 50)), "p99_ms", ms(percentile(all, 99)))
	b.emit("users_page_rps_32", rps)
	b.emit("users_page_p99_ms_32", ms(percentile(all, 99)))
	return nil
}

// load runs clients goroutines requesting random URLs back to back: a
// warm-up, then a measured period. Throughput counts the requests that
// completed within the measured period; latency is theirs. The load
// generator shares the machine (and this process) with the server, as wrk
// did in the calibration.
func (w *benchWeb) load(ctx context.Context, urls []string, clients int, warm, measure time.Duration) (rps float64, lat []time.Duration, errs int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	measureFrom, stopAt := start.Add(warm), start.Add(warm+measure)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 99))
			var mine []time.Duration
			bad := 0
			for time.Now().Before(stopAt) && ctx.Err() == nil {
				d, err := w.get(ctx, urls[r.IntN(len(urls))])
				done := time.Now()
				if done.Before(measureFrom) || done.After(stopAt) {
					continue
				}
				if err != nil {
					bad++
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(len(lat)) / measure.Seconds(), lat, errs
}

// groupPage measures the members page of the group closest above 10,000
// members, in name order.
func (b *bench) groupPage(ctx context.Context, w *benchWeb, rnd *rand.Rand) error {
	const metric = "group_members_page_p99_ms"
	var best db.GroupRow
	p := db.PageRequest{Limit: 500}
	for {
		page, err := b.store.BrowseGroups(ctx, db.GroupFilter{DirectoryID: b.dirID}, p)
		if err != nil {
			return err
		}
		for _, g := range page.Rows {
			if g.Members >= 10_000 && (best.ID == "" || g.Members < best.Members) {
				best = g
			}
			if best.ID == "" || (best.Members < 10_000 && g.Members > best.Members) {
				best = g
			}
		}
		if !page.HasNext || len(page.Rows) == 0 {
			break
		}
		c := page.Rows[len(page.Rows)-1].Cursor()
		p.After = &c
	}
	if best.ID == "" {
		b.skip(metric, "the directory has no group")
		return nil
	}
	if best.Members < 10_000 {
		b.log.Warn("bench: no group has 10,000 members; measuring the largest", "group", best.Name, "members", best.Members)
	}
	path := "/groups/" + url.PathEscape(best.ID) + "?limit=100"
	if err := w.pageReady(ctx, path); err != nil {
		b.skip(metric, err.Error())
		return nil
	}
	pages, err := w.walk(ctx, path, b.walkMax())
	if err != nil {
		return fmt.Errorf("bench: walk the group's members: %w", err)
	}
	b.log.Info("bench: group members", "group", best.Name, "members", best.Members, "pages", len(pages))
	urls := make([]string, b.opts.cursors)
	for i := range urls {
		urls[i] = withLimit(pages[rnd.IntN(len(pages))], 100)
	}
	if _, err := w.sequential(ctx, urls[:min(200, len(urls))]); err != nil {
		return err
	}
	lat, err := w.sequential(ctx, urls)
	if err != nil {
		return fmt.Errorf("bench: group page: %w", err)
	}
	b.log.Info("bench: group members page", "p50_ms", ms(percentile(lat, 50)), "p99_ms", ms(percentile(lat, 99)))
	b.emit(metric, ms(percentile(lat, 99)))
	return nil
}

// searchTerms picks realistic search input from the replica: whole last
// names, first-name prefixes, email prefixes, job-title and department
// words, and two-word "first last" searches.
func (b *bench) searchTerms(ctx context.Context, rnd *rand.Rand, n int) ([]string, error) {
	var rows []db.UserRow
	for _, start := range strings.Split("abcdefghijklmnopqrstuvwxyz", "") {
		page, err := b.store.BrowseUsers(ctx, db.UserFilter{DirectoryID: b.dirID},
			db.PageRequest{Limit: 20, After: &db.Cursor{SortKey: start}})
		if err != nil {
			return nil, err
		}
		rows = append(rows, page.Rows...)
	}
	if len(rows) == 0 {
		return nil, errors.New("bench: no people to take search terms from")
	}
	prefix := func(s string, n int) string {
		r := []rune(strings.ToLower(s))
		return string(r[:min(n, len(r))])
	}
	seen := map[string]bool{}
	var terms []string
	for tries := 0; len(terms) < n && tries < n*20; tries++ {
		r := rows[rnd.IntN(len(rows))]
		var t string
		switch tries % 6 {
		case 0:
			t = r.LastName
		case 1:
			t = prefix(r.FirstName, 3+rnd.IntN(3))
		case 2:
			t, _, _ = strings.Cut(r.Email, "@")
			t = prefix(t, 4)
		case 3:
			if f := strings.Fields(r.JobTitle); len(f) > 0 {
				t = strings.ToLower(f[rnd.IntN(len(f))])
			}
		case 4:
			t = r.FirstName + " " + prefix(r.LastName, 2)
		case 5:
			t = prefix(r.Department, 4)
		}
		if t = strings.TrimSpace(t); t == "" || seen[t] {
			continue
		}
		seen[t] = true
		terms = append(terms, t)
	}
	return terms, nil
}

// search measures the first name-ordered page of search results over HTTP.
func (b *bench) search(ctx context.Context, w *benchWeb, rnd *rand.Rand, usersPath string) error {
	const metric = "search_p99_ms"
	terms, err := b.searchTerms(ctx, rnd, b.opts.searchTerms)
	if err != nil {
		return err
	}
	q := func(t string) string { return usersPath + "?limit=100&q=" + url.QueryEscape(t) }
	if err := w.pageReady(ctx, q(terms[0])); err != nil {
		b.skip(metric, err.Error())
		return nil
	}
	var urls []string
	for range 5 {
		for _, t := range terms {
			urls = append(urls, q(t))
		}
	}
	rnd.Shuffle(len(urls), func(i, j int) { urls[i], urls[j] = urls[j], urls[i] })
	if _, err := w.sequential(ctx, urls[:min(100, len(urls))]); err != nil {
		return err
	}
	lat, err := w.sequential(ctx, urls)
	if err != nil {
		return fmt.Errorf("bench: search: %w", err)
	}
	b.log.Info("bench: search", "terms", len(terms), "requests", len(lat), "p50_ms", ms(percentile(lat, 50)),
		"p99_ms", ms(percentile(lat, 99)), "slowest_ms", ms(percentile(lat, 100)))
	b.emit(metric, ms(percentile(lat, 99)))
	return nil
}

func (b *bench) walkMax() int {
	if b.opts.walk > 0 {
		return b.opts.walk
	}
	return 1_000_000
}
