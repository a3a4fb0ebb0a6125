package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// routesPolicies registers the policy settings (with the simulator) and
// the review queue.
func (s *Server) routesPolicies(g *echo.Group) {
	g.GET("/settings/policies", s.showPolicies)
	g.POST("/settings/policies", s.submitPolicies)
	g.GET("/review", s.showReviewQueue)
	g.POST("/review/:id/approve", s.submitReview(true))
	g.POST("/review/:id/dismiss", s.submitReview(false))
}

// policiesVM maps an organisation's policy to the page; in (may be nil)
// is a refused edit to show again.
func policiesVM(ps onboarding.PolicySettings, in *onboarding.PolicyInput) views.PoliciesVM {
	vm := views.PoliciesVM{OrgID: ps.OrganizationID, OrgName: ps.OrgName, GraceDays: ps.Policy.GraceDays,
		UpdatedBy: ps.Policy.UpdatedBy}
	if !ps.Policy.UpdatedAt.IsZero() {
		vm.UpdatedAt = ps.Policy.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	deprov, react, auto := ps.Policy.Deprovision, ps.Policy.Reactivation, ps.AutoInvite
	if in != nil {
		deprov, react, vm.GraceDays = in.Deprovision, in.Reactivation, in.GraceDays
		auto = map[string]bool{}
		for _, g := range in.AutoInviteGroups {
			auto[g] = true
		}
	}
	for _, o := range ps.Organizations {
		vm.Orgs = append(vm.Orgs, views.OrgChoice{ID: o.ID, Name: o.Name, Selected: o.ID == ps.OrganizationID})
	}
	for _, a := range onboarding.DeprovisionActions {
		vm.Deprovision = append(vm.Deprovision, views.PolicyOption{Key: a.Key, Label: a.Label, Hint: a.Hint, Checked: a.Key == deprov})
	}
	for _, a := range onboarding.ReactivationActions {
		vm.Reactivation = append(vm.Reactivation, views.PolicyOption{Key: a.Key, Label: a.Label, Hint: a.Hint, Checked: a.Key == react})
	}
	for _, g := range ps.Groups {
		vm.Groups = append(vm.Groups, views.PolicyGroup{ID: g.ID, Name: g.Name, Auto: auto[g.ID]})
	}
	for _, e := range onboarding.SimEvents {
		vm.SimEvents = append(vm.SimEvents, views.SimEventOption{Key: e.Key, Label: e.Label})
	}
	return vm
}

func (s *Server) showPolicies(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	ps, err := s.App.Policies(ctx, act, c.QueryParam("org"))
	if err != nil {
		return err
	}
	vm := policiesVM(ps, nil)
	if c.QueryParam("simulate") != "" && ps.OrganizationID != "" {
		in := onboarding.SimulationInput{User: c.QueryParam("user"), Event: c.QueryParam("event"),
			GroupID: c.QueryParam("group"), Title: c.QueryParam("title")}
		vm.SimUser, vm.SimGroup, vm.SimTitle = in.User, in.GroupID, in.Title
		for i := range vm.SimEvents {
			vm.SimEvents[i].Selected = vm.SimEvents[i].Key == in.Event
		}
		sim, err := s.App.Simulate(ctx, act, ps.OrganizationID, in)
		switch {
		case errors.Is(err, onboarding.ErrInvalid):
			vm.Sim.Error = strings.TrimPrefix(err.Error(), onboarding.ErrInvalid.Error()+": ")
			return s.render(c, http.StatusUnprocessableEntity, views.Policies(s.page(c, "Policies", "settings"), vm))
		case err != nil:
			return err
		}
		vm.Sim = simulationVM(sim)
	}
	return s.render(c, http.StatusOK, views.Policies(s.page(c, "Policies", "settings"), vm))
}

// effectLabels name effect kinds for people.
var effectLabels = map[string]string{
	"update": "Field updated", "suspend": "Suspended", "schedule": "Suspension scheduled", "delete": "Deleted",
	"restore": "Restored", "role": "Role changed", "flag": "Flagged for review", "conflict": "Conflict for review",
	"invite": "Invited", "refused": "Not invited", "cancel": "Scheduled suspension cancelled", "revoke": "Invitation revoked",
	"skipped": "Skipped", "note": "Noted",
}

func simulationVM(sim onboarding.Simulation) views.SimulationVM {
	vm := views.SimulationVM{Ran: true, Person: sim.Label, Event: sim.EventLabel}
	if sim.Account != nil {
		vm.HasAccount, vm.AccountEmail, vm.AccountState = true, sim.Account.Email, sim.Account.State
		vm.AccountHref = "/accounts/" + strconv.FormatInt(sim.Account.ID, 10)
	}
	for _, e := range sim.Effects {
		what := effectLabels[e.Kind]
		if what == "" {
			what = e.Kind
		}
		vm.Effects = append(vm.Effects, views.SimEffectRow{What: what, Field: e.Field, Old: e.Old, New: e.New, Note: e.Note})
	}
	return vm
}

func (s *Server) submitPolicies(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	org := form.Get("org")
	in := onboarding.PolicyInput{Deprovision: form.Get("deprovision"), Reactivation: form.Get("reactivation"),
		AutoInviteGroups: form["auto_invite"]}
	days, derr := strconv.Atoi(strings.TrimSpace(form.Get("grace_days")))
	in.GraceDays = days
	if derr != nil {
		in.GraceDays = 0 // refused below with a clear message
	}
	err = s.App.SavePolicy(ctx, act, org, in)
	if errors.Is(err, onboarding.ErrInvalid) {
		ps, lerr := s.App.Policies(ctx, act, org)
		if lerr != nil {
			return lerr
		}
		vm := policiesVM(ps, &in)
		if derr != nil {
			vm.GraceDays = ps.Policy.GraceDays
		}
		vm.Error = strings.TrimPrefix(err.Error(), onboarding.ErrInvalid.Error()+": ")
		return s.render(c, http.StatusUnprocessableEntity, views.Policies(s.page(c, "Policies", "settings"), vm))
	}
	if err != nil {
		return err
	}
	s.setFlash(c, "ok", "Policy saved. It applies to the next directory changes.")
	target := "/settings/policies"
	if act.Platform() {
		target += "?org=" + urlQueryEscape(org)
	}
	return c.Redirect(http.StatusSeeOther, target)
}
