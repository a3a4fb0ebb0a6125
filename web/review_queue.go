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

// reviewActions say what approving an item does.
var reviewActions = map[string]string{
	"suspend": "suspend the account", "delete": "delete the account", "restore": "restore the account",
	"set_role": "use the mapped role", "set_email": "use the new email", "none": "acknowledge",
}

func (s *Server) showReviewQueue(c echo.Context) error {
	status := c.QueryParam("status")
	var before int64
	if b := c.QueryParam("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "bad page cursor")
		}
		before = n
	}
	q, err := s.App.ReviewItems(c.Request().Context(), s.actor(c), status, before)
	if err != nil {
		return err
	}
	vm := views.ReviewQueueVM{Status: q.Status, Total: q.Total, Open: q.Open}
	for _, st := range onboarding.ReviewStatuses {
		href := "/review"
		if st != onboarding.ReviewOpen {
			href += "?status=" + st
		}
		vm.Tabs = append(vm.Tabs, views.ReviewTab{Label: strings.ToUpper(st[:1]) + st[1:], Href: href, Current: st == q.Status})
	}
	for _, it := range q.Items {
		r := views.ReviewRowVM{ID: strconv.FormatInt(it.ID, 10), Kind: "Flag", Reason: it.Reason, EventID: it.EventID,
			Created: it.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), Open: it.Status == onboarding.ReviewOpen,
			Account: it.AccountEmail, AccountState: it.AccountState, Danger: it.Action == onboarding.ReviewActionDelete}
		if it.Kind == onboarding.ReviewConflict {
			r.Kind = "Conflict"
		}
		r.Approve = reviewActions[it.Action]
		if r.Approve == "" {
			r.Approve = it.Action
		}
		if it.Action == onboarding.ReviewActionSetRole && it.Proposed != "" {
			r.Approve = "use the mapped role (" + it.Proposed + ")"
		}
		if it.AccountID > 0 {
			r.AccountHref = "/accounts/" + strconv.FormatInt(it.AccountID, 10)
			if r.Account == "" {
				r.Account = "account #" + strconv.FormatInt(it.AccountID, 10)
			}
		}
		if !r.Open {
			r.Decision = it.Status + " by " + it.DecidedBy + " at " + it.DecidedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		vm.Rows = append(vm.Rows, r)
	}
	if q.NextBefore > 0 {
		vm.NextHref = "/review?status=" + q.Status + "&before=" + strconv.FormatInt(q.NextBefore, 10)
	}
	return s.render(c, http.StatusOK, views.ReviewQueue(s.page(c, "Review queue", "review"), vm))
}

func (s *Server) submitReview(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return onboarding.ErrNotFound
		}
		d, err := s.App.DecideReview(c.Request().Context(), s.actor(c), id, approve)
		switch {
		case errors.Is(err, onboarding.ErrInvalid):
			s.setFlash(c, "error", strings.TrimPrefix(err.Error(), onboarding.ErrInvalid.Error()+": "))
			return c.Redirect(http.StatusSeeOther, "/review")
		case err != nil:
			return err
		}
		who := d.Item.AccountEmail
		if who == "" {
			who = "item #" + strconv.FormatInt(id, 10)
		}
		switch {
		case d.Already:
			s.setFlash(c, "info", "This item was already "+d.Item.Status+" by "+d.Item.DecidedBy+"; nothing more was done.")
		case approve:
			s.setFlash(c, "ok", "Approved for "+who+": "+reviewActions[d.Item.Action]+".")
		default:
			s.setFlash(c, "ok", "Dismissed for "+who+"; nothing was changed.")
		}
		return c.Redirect(http.StatusSeeOther, "/review")
	}
}
