package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// routesInvite registers the review, invite, invitations, accounts and
// settings pages (admin only).
func (s *Server) routesInvite(g *echo.Group) {
	g.GET("/selection/review", s.showReview)
	g.POST("/selection/invite", s.submitInvite)
	g.GET("/selection/invite/:batch", s.showInviteResult)
	g.GET("/invitations", s.showInvitations)
	g.POST("/invitations/:id/resend", s.submitResend)
	g.POST("/invitations/:id/revoke", s.submitRevoke)
	g.GET("/accounts", s.showAccounts)
	g.GET("/accounts.csv", s.exportAccounts)
	g.GET("/accounts/:id", s.showAccountDetail)
	g.GET("/settings", s.showSettings)
	g.POST("/settings", s.submitSettings)
}

// Rows shown per bucket; counts are always exact.
const (
	reviewNewRows   = 500
	reviewOtherRows = 200
)

var bucketTitles = map[string][2]string{
	onboarding.BucketNew:      {"New accounts to create", "Pre-filled from the directory through the attribute mapping. Change a role per person if needed."},
	onboarding.BucketExisting: {"Already have an account (skipped)", "The same directory user, or the same email in the organisation, already has an account."},
	onboarding.BucketPending:  {"Invitation pending (skipped)", "Invited already and not yet accepted. Resend from the Invitations page if needed."},
	onboarding.BucketInactive: {"Inactive in the directory (excluded)", "Only people active in the directory are invited."},
	onboarding.BucketNoEmail:  {"No email (excluded)", "An invitation needs an email address."},
	onboarding.BucketDomain:   {"Email domain not allowed (excluded)", "The organisation only allows some email domains."},
	onboarding.BucketDupEmail: {"Same email as another selected person (excluded)", "Only the first person with an email gets the account."},
}

func (s *Server) showReview(c echo.Context) error {
	act := s.actor(c)
	rv, err := s.App.Review(c.Request().Context(), act)
	if err != nil {
		return err
	}
	vm := views.ReviewVM{Key: onboarding.RandomToken(24), Total: rv.Total, Gone: rv.Gone, ShowOrg: act.Platform()}
	for _, f := range onboarding.AccountFields {
		if f.Key == "email" || f.Key == "first_name" || f.Key == "last_name" || f.Key == "display_name" || f.Key == "phone" {
			continue // the table keeps to what tells people apart; the rest is on each account
		}
		vm.Fields = append(vm.Fields, views.ReviewField{Key: f.Key, Label: f.Label})
	}
	vm.Fields = append([]views.ReviewField{{Key: "email", Label: "Email"}, {Key: "display_name", Label: "Display name"}}, vm.Fields...)
	roles := map[string][]views.RoleOption{}
	for org, rs := range rv.Roles {
		for _, r := range rs {
			roles[org] = append(roles[org], views.RoleOption{Slug: r.Slug, Name: r.Name})
		}
	}
	row := func(p onboarding.ReviewPerson) views.ReviewRow {
		r := views.ReviewRow{UserID: p.UserID, Name: p.Name, Email: p.Email, Href: templ.SafeURL("/users/" + url.PathEscape(p.UserID)),
			Reason: p.Reason, Role: p.Role, Paths: p.Paths, Org: rv.OrgNames[p.OrganizationID]}
		return r
	}
	bucket := func(key string, people []onboarding.ReviewPerson, max int) views.ReviewBucket {
		t := bucketTitles[key]
		b := views.ReviewBucket{Key: key, Title: t[0], Hint: t[1], Count: len(people), Excluded: !onboarding.Skipped(key) && key != onboarding.BucketNew}
		for i, p := range people {
			if i == max {
				break
			}
			r := row(p)
			if key == onboarding.BucketNew {
				for _, f := range vm.Fields {
					r.Attrs = append(r.Attrs, p.Attr(f.Key))
				}
				r.Roles = roles[p.OrganizationID]
			}
			b.Rows = append(b.Rows, r)
		}
		return b
	}
	vm.New = bucket(onboarding.BucketNew, rv.Buckets[onboarding.BucketNew], reviewNewRows)
	for _, k := range onboarding.BucketOrder[1:] {
		vm.Others = append(vm.Others, bucket(k, rv.Buckets[k], reviewOtherRows))
	}
	vm.Duplicates = views.ReviewBucket{Key: "duplicates", Title: "Selected more than once (merged)",
		Hint: "Selected directly and through a group, or through several groups; each person counts once.", Count: len(rv.Duplicates)}
	for i, p := range rv.Duplicates {
		if i == reviewOtherRows {
			break
		}
		vm.Duplicates.Rows = append(vm.Duplicates.Rows, row(p))
	}
	return s.render(c, http.StatusOK, views.ReviewPage(s.page(c, "Review", ""), vm))
}

// parseRoleOverrides reads the per-person role choices of the review form:
// fields named "role:<directory user id>". Empty ids and values are
// dropped; a repeated field keeps its first value.
func parseRoleOverrides(form url.Values) map[string]string {
	out := map[string]string{}
	for k, vs := range form {
		id, ok := strings.CutPrefix(k, "role:")
		if !ok || id == "" || len(vs) == 0 || len(id) > 200 {
			continue
		}
		if v := strings.TrimSpace(vs[0]); v != "" && len(v) <= 100 {
			out[id] = v
		}
	}
	return out
}

func (s *Server) submitInvite(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	res, err := s.App.Invite(c.Request().Context(), s.actor(c), onboarding.InviteInput{
		Key: form.Get("key"), Overrides: parseRoleOverrides(form)})
	if err != nil {
		return err
	}
	if res.Replayed {
		s.setFlash(c, "info", "This confirmation was already done; nothing was created twice.")
	} else {
		s.setFlash(c, "ok", views.Plural(res.Created, "account", "accounts")+" created and invited.")
	}
	return c.Redirect(http.StatusSeeOther, "/selection/invite/"+strconv.FormatInt(res.BatchID, 10))
}

var bucketLabels = map[string]string{
	onboarding.BucketExisting: "already have an account",
	onboarding.BucketPending:  "invitation already pending",
	onboarding.BucketInactive: "inactive in the directory",
	onboarding.BucketNoEmail:  "no usable email",
	onboarding.BucketDomain:   "email domain not allowed",
	onboarding.BucketDupEmail: "same email as another selected person",
}

func (s *Server) showInviteResult(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("batch"), 10, 64)
	if err != nil {
		return onboarding.ErrNotFound
	}
	res, err := s.App.InviteBatchResult(c.Request().Context(), s.actor(c), id)
	if err != nil {
		return err
	}
	vm := views.InviteResultVM{Created: res.Created, Reasons: res.Reasons, When: res.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
		InvitationsHref: templ.SafeURL("/invitations?batch=" + strconv.FormatInt(id, 10))}
	counts := func(m map[string]int) []views.ResultCount {
		var out []views.ResultCount
		for _, b := range onboarding.BucketOrder {
			if m[b] > 0 {
				out = append(out, views.ResultCount{Label: bucketLabels[b], N: m[b]})
			}
		}
		return out
	}
	vm.Skipped = counts(res.Skipped)
	if res.Merged > 0 {
		vm.Skipped = append(vm.Skipped, views.ResultCount{Label: "selected more than once (merged, invited once)", N: res.Merged})
	}
	vm.Refused = counts(res.Refused)
	if res.Gone > 0 {
		vm.Refused = append(vm.Refused, views.ResultCount{Label: "no longer in the directory", N: res.Gone})
	}
	sort.SliceStable(vm.Refused, func(i, j int) bool { return vm.Refused[i].N > vm.Refused[j].N })
	return s.render(c, http.StatusOK, views.InviteResultPage(s.page(c, "Invitations sent", "invitations"), vm))
}

// parseID reads a positive integer id from the path; anything else is a 404.
func parseID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, onboarding.ErrNotFound
	}
	return id, nil
}
