package sandbox

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// knownEvents are the event names the Events API accepts as filters: every
// name of the official spec's EventSchema, plus the 2026 token events.
var knownEvents = func() map[string]bool {
	names := `action.authentication.denied action.user_registration.denied api_key.created api_key.revoked
authentication.email_verification_failed authentication.email_verification_succeeded authentication.magic_auth_failed
authentication.magic_auth_succeeded authentication.mfa_failed authentication.mfa_succeeded authentication.oauth_failed
authentication.oauth_succeeded authentication.passkey_failed authentication.passkey_succeeded authentication.password_failed
authentication.password_succeeded authentication.radar_risk_detected authentication.sso_failed authentication.sso_started
authentication.sso_succeeded authentication.sso_timed_out connection.activated connection.deactivated connection.deleted
connection.saml_certificate_renewal_required connection.saml_certificate_renewed dsync.activated dsync.deactivated
dsync.deleted dsync.group.created dsync.group.deleted dsync.group.updated dsync.group.user_added dsync.group.user_removed
dsync.user.created dsync.user.deleted dsync.user.updated dsync.token.created dsync.token.revoked email_verification.created
flag.created flag.deleted flag.rule_updated flag.updated group.created group.deleted group.member_added group.member_removed
group.updated invitation.accepted invitation.created invitation.resent invitation.revoked magic_auth.created
organization.created organization.deleted organization.updated organization_domain.created organization_domain.deleted
organization_domain.updated organization_domain.verification_failed organization_domain.verified
organization_membership.created organization_membership.deleted organization_membership.updated
organization_role.created organization_role.deleted organization_role.updated password_reset.created
password_reset.succeeded permission.created permission.deleted permission.updated role.created role.deleted role.updated
session.created session.revoked user.created user.deleted user.updated vault.byok_key.deleted
vault.byok_key.verification_completed vault.data.created vault.data.deleted vault.data.read vault.data.updated
vault.dek.decrypted vault.dek.read vault.kek.created vault.metadata.read vault.names.listed waitlist_user.approved
waitlist_user.created waitlist_user.denied`
	m := map[string]bool{}
	for _, n := range strings.Fields(names) {
		m[n] = true
	}
	return m
}()

func writeEventsError(w http.ResponseWriter, msg string) {
	var j jw
	j.obj()
	j.kstr("message", msg)
	j.kstr("code", "invalid_events_request")
	j.endObj()
	writeJSONBytes(w, http.StatusBadRequest, j.b)
}

// parseEventNames accepts `events=a,b`, `events=a&events=b` and
// `events[]=a&events[]=b` (the SDKs disagree on the encoding).
func parseEventNames(r *http.Request) []string {
	q := r.URL.Query()
	var out []string
	for _, key := range []string{"events", "events[]"} {
		for _, v := range q[key] {
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

func parseTimeParam(q string, field string) (int64, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, q); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, invalid(field, "must be an ISO-8601 date")
}

// listEvents serves GET /events: oldest first whatever `order` says (as the
// live API does), `after` only, within the 30-day retention window.
func (s *Sandbox) listEvents(w http.ResponseWriter, r *http.Request) {
	names := parseEventNames(r)
	if len(names) == 0 {
		writeEventsError(w, "One or more event names (e.g. dsync.user.created) must be provided using the events parameter.")
		return
	}
	want := map[string]bool{}
	for _, n := range names {
		if !knownEvents[n] {
			writeEventsError(w, "Invalid name parameter, received: '"+n+"'. You must pass in valid event names")
			return
		}
		want[n] = true
	}
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		writeError(w, err)
		return
	}
	from := s.opts.Now().Add(-eventRetention).UnixMilli()
	to := int64(1<<63 - 1)
	if v := q.Get("range_start"); v != "" {
		t, err := parseTimeParam(v, "range_start")
		if err != nil {
			writeError(w, err)
			return
		}
		from = max(from, t)
	}
	if v := q.Get("range_end"); v != "" {
		t, err := parseTimeParam(v, "range_end")
		if err != nil {
			writeError(w, err)
			return
		}
		to = t
	}
	orgF := q.Get("organization_id")

	s.mu.RLock()
	defer s.mu.RUnlock()
	evs := s.st.events
	start := sort.Search(len(evs), func(i int) bool { return evs[i].at >= from })
	if p.after != "" {
		start = max(start, sort.Search(len(evs), func(i int) bool { return evs[i].id > p.after }))
	}
	match := func(e *event) bool {
		return want[e.name] && e.at >= from && e.at <= to && (orgF == "" || e.orgID == orgF)
	}
	var page []*event
	more := false
	for i := start; i < len(evs); i++ {
		if !match(evs[i]) {
			continue
		}
		if len(page) == p.limit {
			more = true
			break
		}
		page = append(page, evs[i])
	}
	var j jw
	j.obj()
	j.kstr("object", "list")
	j.karr("data")
	for _, e := range page {
		writeEvent(&j, e, true)
	}
	j.endArr()
	j.kobj("list_metadata")
	if more {
		j.kstr("after", page[len(page)-1].id)
	} else {
		j.knull("after")
	}
	j.endObj()
	j.endObj()
	writeJSONBytes(w, http.StatusOK, j.b)
}
