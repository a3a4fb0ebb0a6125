package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// routesSync registers the sync overview, one directory's sync page (both
// also serve the htmx fragment that refreshes them) and its two buttons.
func (s *Server) routesSync(g *echo.Group) {
	if s.Syncer == nil {
		return
	}
	g.GET("/sync", s.showSyncList)
	g.GET("/sync/:id", s.showSyncDetail)
	g.POST("/sync/:id/now", s.submitSyncNow)
	g.POST("/sync/:id/reconcile", s.submitReconcile)
}

func (s *Server) showSyncList(c echo.Context) error {
	rows, err := s.Syncer.Statuses(c.Request().Context(), s.actor(c))
	if err != nil {
		return err
	}
	vm := views.SyncListVM{}
	now := s.now()
	for _, r := range rows {
		vm.Rows = append(vm.Rows, syncRowVM(r, now))
	}
	if c.QueryParam("fragment") == "table" {
		return s.render(c, http.StatusOK, views.SyncTable(vm))
	}
	return s.render(c, http.StatusOK, views.SyncList(s.page(c, "Sync", "sync"), vm))
}

func (s *Server) showSyncDetail(c echo.Context) error {
	st, err := s.Syncer.Status(c.Request().Context(), s.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	vm := syncDetailVM(st, s.now())
	if c.QueryParam("fragment") == "status" {
		return s.render(c, http.StatusOK, views.SyncStatus(vm))
	}
	return s.render(c, http.StatusOK, views.SyncDetail(s.page(c, "Sync · "+st.Name, "sync"), vm))
}

func (s *Server) submitSyncNow(c echo.Context) error {
	id := c.Param("id")
	if err := s.Syncer.Authorize(c.Request().Context(), s.actor(c), id); err != nil {
		return err
	}
	s.Syncer.SyncNow(id)
	s.setFlash(c, "ok", "Sync started: new events will show here in a moment.")
	return c.Redirect(http.StatusSeeOther, "/sync/"+id)
}

func (s *Server) submitReconcile(c echo.Context) error {
	id := c.Param("id")
	ctx := c.Request().Context()
	if err := s.Syncer.Authorize(ctx, s.actor(c), id); err != nil {
		return err
	}
	if err := s.Syncer.StartReconcile(ctx, id); err != nil {
		return err
	}
	s.setFlash(c, "ok", "Reconcile started: Roster re-reads the whole directory and fixes every difference; the audit log lists each one.")
	return c.Redirect(http.StatusSeeOther, "/sync/"+id)
}

func syncRowVM(r onboarding.DirectorySync, now time.Time) views.SyncRowVM {
	vm := views.SyncRowVM{
		ID: r.DirectoryID, Name: r.Name, Provider: providerLabel(r.DirectoryType),
		LastPoll: syncAgo(now, r.LastPollAt), LastSuccess: syncWhen(r.LastSuccessAt),
		Lag:   durationText(r.Lag),
		Users: strconv.FormatInt(r.Users, 10), Groups: strconv.FormatInt(r.Groups, 10),
		Memberships: strconv.FormatInt(r.Memberships, 10),
		Problem:     r.LastError, ProblemCurrent: r.ErrorCurrent, ProblemAt: syncWhen(r.LastErrorAt),
	}
	switch {
	case r.Deleted:
		vm.StateLabel, vm.StateKind, vm.Lag = "Deleted in WorkOS", "bad", "—"
	case r.Loading && r.Mode == "reconcile":
		vm.StateLabel, vm.StateKind = fmt.Sprintf("Reconciling %d%%", int(r.Progress*100)), "warn"
	case r.Loading:
		vm.StateLabel, vm.StateKind = fmt.Sprintf("Importing %d%%", int(r.Progress*100)), "warn"
	case r.ErrorCurrent:
		vm.StateLabel, vm.StateKind = "Behind", "bad"
	default:
		vm.StateLabel, vm.StateKind = "Live", "ok"
	}
	return vm
}

func syncDetailVM(r onboarding.DirectorySync, now time.Time) views.SyncDetailVM {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	total := func(v int64) string {
		if v <= 0 {
			return "?"
		}
		return n(v)
	}
	vm := views.SyncDetailVM{
		Row: syncRowVM(r, now), Cursor: r.Cursor,
		Applied: n(r.Applied), Duplicate: n(r.Duplicate), Stale: n(r.Stale), Failed: n(r.Failed),
		Loading: r.Loading, Percent: int(r.Progress * 100),
		UsersDone: n(r.UsersDone), UsersTotal: total(r.UsersTotal),
		GroupsDone: n(r.GroupsDone), GroupsTotal: total(r.GroupsTotal), MembershipsDone: n(r.MembershipsDone),
		LoadFinished: syncWhen(r.LoadFinishedAt), LastReconcile: syncWhen(r.LastReconcileAt),
		CanAct: !r.Deleted,
	}
	if !r.LastReconcileAt.IsZero() {
		vm.Changes = views.Plural(int(r.Changes), "difference fixed", "differences fixed")
	}
	vm.LoadLabel = "Importing"
	if r.Mode == "reconcile" {
		vm.LoadLabel = "Reconciling"
	}
	switch r.Phase {
	case "groups":
		vm.PhaseLabel = "listing groups"
	case "users":
		vm.PhaseLabel = "listing people"
	case "memberships":
		vm.PhaseLabel = "listing group members"
	case "finish":
		vm.PhaseLabel = "building the search index"
	}
	if r.ETA > 0 {
		vm.ETA = "about " + durationText(r.ETA)
	}
	return vm
}

// durationText formats a duration coarsely: "3 s", "4 min", "2 h", "3 days".
func durationText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// syncWhen is a time to the second: the sync page is about seconds.
func syncWhen(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func syncAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return durationText(max(now.Sub(t), 0)) + " ago"
}
