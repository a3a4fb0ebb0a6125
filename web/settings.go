package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// settingsInput reads the settings form: field sources ("src:<field>"),
// the default role, the expiry and the group → role pairs (map_group[i]
// goes with map_role[i]).
func settingsInput(c echo.Context) (onboarding.SettingsInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return onboarding.SettingsInput{}, echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	in := onboarding.SettingsInput{Sources: map[string]string{}, DefaultRole: form.Get("default_role")}
	for _, f := range onboarding.AccountFields {
		if vs, ok := form["src:"+f.Key]; ok && len(vs) > 0 {
			in.Sources[f.Key] = strings.TrimSpace(vs[0])
		}
	}
	ttl := strings.TrimSpace(form.Get("ttl_days"))
	if in.InviteTTLDays, err = strconv.Atoi(ttl); err != nil {
		return in, fmt.Errorf("%w: the expiry must be a whole number of days", onboarding.ErrInvalid)
	}
	groups, roles := form["map_group"], form["map_role"]
	for i, g := range groups {
		if i < len(roles) {
			in.RoleMappings = append(in.RoleMappings, onboarding.RoleMapping{GroupID: g, RoleSlug: roles[i]})
		}
	}
	return in, nil
}

func (s *Server) settingsVM(st onboarding.Settings) views.SettingsVM {
	vm := views.SettingsVM{OrgID: st.OrganizationID, OrgName: st.OrgName, Total: st.Preview.Total, DefaultRole: st.DefaultRole,
		TTLDays: st.InviteTTLDays, NoOrg: st.OrganizationID == ""}
	for _, o := range st.Organizations {
		vm.Orgs = append(vm.Orgs, views.Option{Value: o.ID, Label: o.Name})
	}
	for _, p := range st.Preview.Samples {
		vm.SampleNames = append(vm.SampleNames, p.Label)
	}
	for _, f := range onboarding.AccountFields {
		sf := views.SettingsField{Key: f.Key, Label: f.Label, Source: st.Sources[f.Key], Default: onboarding.DefaultSources[f.Key],
			Warning: st.Preview.EmptyWarning(f.Key)}
		for _, p := range st.Preview.Samples {
			sf.Samples = append(sf.Samples, p.Values[f.Key])
		}
		vm.Fields = append(vm.Fields, sf)
	}
	vm.Sources = onboarding.SourceFieldNames()
	for _, k := range st.CustomKeys {
		vm.Sources = append(vm.Sources, "custom_attributes."+k)
	}
	for _, r := range st.Roles {
		vm.Roles = append(vm.Roles, views.Option{Value: r.Slug, Label: r.Name})
	}
	mapped := map[string]bool{}
	for _, m := range st.RoleMappings {
		name := m.GroupName
		if name == "" {
			name = m.GroupID + " (deleted)"
		}
		mapped[m.GroupID] = true
		vm.Mappings = append(vm.Mappings, views.RoleMappingRow{GroupID: m.GroupID, GroupName: name, Role: m.RoleSlug})
	}
	for _, g := range st.Groups {
		if !mapped[g.ID] {
			vm.Groups = append(vm.Groups, views.Option{Value: g.ID, Label: g.Name})
		}
	}
	return vm
}

func (s *Server) showSettings(c echo.Context) error {
	st, err := s.App.Settings(c.Request().Context(), s.actor(c), c.QueryParam("org"), nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.SettingsPage(s.page(c, "Settings", "settings"), s.settingsVM(st)))
}

func (s *Server) submitSettings(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	org := c.FormValue("org")
	in, err := settingsInput(c)
	if err == nil && c.FormValue("action") != "preview" {
		err = s.App.SaveSettings(ctx, act, org, in)
		if err == nil {
			s.setFlash(c, "ok", "Settings saved.")
			target := "/settings"
			if act.Platform() && org != "" {
				target += "?org=" + urlQueryEscape(org)
			}
			return c.Redirect(http.StatusSeeOther, target)
		}
	}
	if err != nil && !errors.Is(err, onboarding.ErrInvalid) {
		return err
	}
	// A preview, or a refused edit: show the page with what was typed,
	// previewing the valid sources, so nothing typed is lost.
	st, serr := s.App.Settings(ctx, act, org, in.Sources)
	if serr != nil {
		return serr
	}
	vm := s.settingsVM(st)
	vm.DefaultRole, vm.TTLDays = in.DefaultRole, in.InviteTTLDays
	status := http.StatusOK
	if err != nil {
		vm.Error = strings.TrimPrefix(err.Error(), onboarding.ErrInvalid.Error()+": ")
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, views.SettingsPage(s.page(c, "Settings", "settings"), vm))
}
