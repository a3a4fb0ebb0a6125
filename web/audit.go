package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// routesMailAudit registers the Audit log and, in demo mode, the Mailbox.
func (s *Server) routesMailAudit(g *echo.Group) {
	g.GET("/audit", s.showAudit)
	g.GET("/audit.csv", s.exportAudit)
	if s.Config.Demo {
		g.GET("/mailbox", s.showMailbox)
		g.GET("/mailbox/:id", s.showMail)
		g.GET("/mailbox/:id/html", s.mailHTML)
	}
}

// auditLimits are the page sizes offered; anything else means the default.
var auditLimits = []int{10, 25, 50, 100}

const auditDefaultLimit = 25

// auditForm is the audit filter as typed in the URL: the parsed query, the
// raw values to show back, and notes on what could not be understood.
type auditForm struct {
	q       onboarding.AuditQuery
	raw     url.Values // the filters only, for links (no cursors)
	notices []string
}

func parseAuditForm(c echo.Context, act onboarding.Actor) auditForm {
	f := auditForm{raw: url.Values{}}
	keep := func(k, v string) {
		if v != "" {
			f.raw.Set(k, v)
		}
	}
	f.q.Action = strings.TrimSpace(c.QueryParam("action"))
	f.q.Actor = strings.TrimSpace(c.QueryParam("actor"))
	f.q.Query = strings.TrimSpace(c.QueryParam("q"))
	keep("action", f.q.Action)
	keep("actor", f.q.Actor)
	keep("q", f.q.Query)
	if act.Platform() {
		f.q.Org = strings.TrimSpace(c.QueryParam("org"))
		keep("org", f.q.Org)
	}
	for _, d := range []struct {
		key, label string
		dst        *time.Time
	}{{"from", "start", &f.q.From}, {"to", "end", &f.q.To}} {
		v := strings.TrimSpace(c.QueryParam(d.key))
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, v, time.UTC)
		if err != nil {
			f.notices = append(f.notices, fmt.Sprintf("The %s date %q is not a date like 2026-11-30, so it was not used.", d.label, v))
			continue
		}
		*d.dst = t
		keep(d.key, v)
	}
	f.q.Limit = auditDefaultLimit
	if n, err := strconv.Atoi(c.QueryParam("limit")); err == nil {
		for _, l := range auditLimits {
			if n == l {
				f.q.Limit = n
			}
		}
	}
	if f.q.Limit != auditDefaultLimit {
		f.raw.Set("limit", strconv.Itoa(f.q.Limit))
	}
	bad := false
	for _, k := range []string{"before", "after"} {
		v := c.QueryParam(k)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad = true
			continue
		}
		if k == "before" {
			f.q.Before = n
		} else {
			f.q.After = n
		}
	}
	if bad {
		f.q.Before, f.q.After = 0, 0
		f.notices = append(f.notices, "That page link is not valid, so the newest entries are shown.")
	}
	return f
}

// href is /audit (or /audit.csv) with the filters and one cursor.
func (f auditForm) href(path, cursor string, id int64) string {
	v := url.Values{}
	for k, vs := range f.raw {
		v[k] = vs
	}
	if cursor != "" {
		v.Set(cursor, strconv.FormatInt(id, 10))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func (s *Server) showAudit(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	f := parseAuditForm(c, act)
	vm := views.AuditVM{
		Action: f.q.Action, Actor: f.q.Actor, Query: f.q.Query, Org: f.q.Org,
		From: c.QueryParam("from"), To: c.QueryParam("to"), Limit: f.q.Limit, Limits: auditLimits,
		ShowOrg: act.Platform(), CSVHref: f.href("/audit.csv", "", 0), NewestHref: f.href("/audit", "", 0),
	}
	vm.Actions = append(vm.Actions, views.AuditOption{Value: "", Label: "All actions"})
	for _, p := range onboarding.AuditActionPrefixes {
		vm.Actions = append(vm.Actions, views.AuditOption{Value: p, Label: strings.TrimSuffix(p, ".")})
	}
	var err error
	if vm.Actors, err = s.App.AuditActors(ctx, act); err != nil {
		return err
	}
	orgs, err := s.App.AuditOrgs(ctx, act)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		vm.Orgs = append(vm.Orgs, views.AuditOption{Value: o.ID, Label: o.Name})
	}

	page, err := s.App.AuditLog(ctx, act, f.q)
	if errors.Is(err, onboarding.ErrInvalid) {
		// Keep every filter on the form so the admin can correct it.
		vm.Error = err.Error()
		return s.render(c, http.StatusUnprocessableEntity, views.AuditPage(s.page(c, "Audit log", "audit"), vm))
	}
	if err != nil {
		return err
	}
	if page.Reset {
		f.notices = append(f.notices, "That page of the log is no longer there (or does not match these filters), so the newest entries are shown.")
	}
	vm.Notice = strings.Join(f.notices, " ")
	for _, r := range page.Records {
		vm.Rows = append(vm.Rows, views.AuditRow{
			ID: r.ID, At: r.At.UTC().Format("2006-01-02 15:04:05 UTC"), AtISO: r.At.UTC().Format(time.RFC3339),
			Actor: r.Actor, Org: r.OrganizationID, Action: r.Action, Target: r.Target, Detail: r.Detail,
		})
	}
	if page.OlderBefore > 0 {
		vm.OlderHref = f.href("/audit", "before", page.OlderBefore)
	}
	if page.NewerAfter > 0 {
		vm.NewerHref = f.href("/audit", "after", page.NewerAfter)
	}
	return s.render(c, http.StatusOK, views.AuditPage(s.page(c, "Audit log", "audit"), vm))
}

// exportAudit streams every entry matching the filters (not just one page)
// as CSV.
func (s *Server) exportAudit(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	f := parseAuditForm(c, act)
	f.q.Before, f.q.After = 0, 0
	// Refuse bad filters before the first byte, while an error page is
	// still possible.
	if err := s.App.CheckAuditQuery(act, f.q); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="roster-audit-%s.csv"`, s.now().UTC().Format("2006-01-02")))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	if err := w.Write([]string{"id", "at", "actor", "organization_id", "action", "target", "detail"}); err != nil {
		return nil // the client went away
	}
	n := 0
	err := s.App.ExportAudit(ctx, act, f.q, func(r onboarding.AuditRecord) error {
		rec := []string{strconv.FormatInt(r.ID, 10), r.At.UTC().Format("2006-01-02T15:04:05.000Z"), r.Actor, r.OrganizationID, r.Action, r.Target, r.Detail}
		for i := range rec {
			rec[i] = auditCSVCell(rec[i])
		}
		if err := w.Write(rec); err != nil {
			return err
		}
		if n++; n%500 == 0 {
			w.Flush()
			c.Response().Flush()
		}
		return w.Error()
	})
	w.Flush()
	if err != nil {
		// Headers are gone: the truncated file is the only signal left, so
		// log it for the operator.
		s.reqLog(c).Error("audit export interrupted", "rows", n, "err", err)
	}
	return nil
}

// auditCSVCell defuses spreadsheet formulas: a cell that starts with = + - @
// (or a tab or carriage return, which some spreadsheets skip) gets a
// leading apostrophe, so it is shown as text and never evaluated.
func auditCSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
