package sandbox

import (
	"time"
)

// ts formats unix milliseconds the way WorkOS does: RFC 3339 with
// milliseconds, UTC, "Z".
func ts(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// eventDirState maps the REST directory state vocabulary to the one used
// in event payloads (Gotcha 7).
func eventDirState(s string) string {
	switch s {
	case "linked":
		return "active"
	case "unlinked":
		return "inactive"
	}
	return s
}

func (st *store) writeDirectory(w *jw, d *directory) {
	w.obj()
	w.kstr("object", "directory")
	w.kstr("id", d.id)
	w.kstr("organization_id", d.orgID)
	w.kstr("external_key", d.externalKey)
	w.kstr("type", d.typ)
	w.kstr("state", d.state)
	w.kstr("name", d.name)
	if d.domain != "" {
		w.kstr("domain", d.domain)
	}
	active, inactive, groups := st.dirCounts(d.id)
	w.kobj("metadata")
	w.kobj("users")
	w.kint("active", int64(active))
	w.kint("inactive", int64(inactive))
	w.endObj()
	w.kint("groups", int64(groups))
	w.endObj()
	w.kstr("created_at", ts(d.created))
	w.kstr("updated_at", ts(d.updated))
	w.endObj()
}

// writeEventDirectory renders the data of dsync.activated (with domains)
// and dsync.deleted (without external_key and domains).
func writeEventDirectory(w *jw, d *directory, domains []orgDomain, activated bool) {
	w.obj()
	w.kstr("object", "directory")
	w.kstr("id", d.id)
	w.kstr("organization_id", d.orgID)
	w.kstr("type", d.typ)
	w.kstr("state", eventDirState(d.state))
	w.kstr("name", d.name)
	w.kstr("created_at", ts(d.created))
	w.kstr("updated_at", ts(d.updated))
	if activated {
		w.kstr("external_key", d.externalKey)
		w.karr("domains")
		for _, dom := range domains {
			w.obj()
			w.kstr("object", "organization_domain")
			w.kstr("id", dom.id)
			w.kstr("domain", dom.domain)
			w.endObj()
		}
		w.endArr()
	}
	w.endObj()
}

// writeUserFields writes the members of a directory_user object without the
// closing brace, so callers can append groups or previous_attributes.
func writeUserFields(w *jw, u *user) {
	w.obj()
	w.kstr("object", "directory_user")
	w.kstr("id", u.id)
	w.kstr("directory_id", u.dirID)
	w.kstr("organization_id", u.orgID)
	w.kstr("idp_id", u.idpID)
	w.kstrOrNull("email", u.email, !u.noEmail)
	w.kstrOrNull("first_name", u.first, u.first != "")
	w.kstrOrNull("last_name", u.last, u.last != "")
	n := u.name()
	w.kstrOrNull("name", n, n != "")
	// Deprecated fields, emptied by WorkOS since 2026-04-15.
	w.karr("emails")
	w.endArr()
	w.knull("job_title")
	w.knull("username")
	w.kstr("state", u.state)
	w.kobj("raw_attributes")
	w.endObj()
	w.kobj("custom_attributes")
	for _, a := range u.custom {
		w.kstr(a.key, a.val)
	}
	w.endObj()
	role := u.role
	if role == "" {
		role = "member"
	}
	w.kobj("role")
	w.kstr("slug", role)
	w.endObj()
	w.karr("roles")
	w.obj()
	w.kstr("slug", role)
	w.endObj()
	w.endArr()
	w.kstr("created_at", ts(u.created))
	w.kstr("updated_at", ts(u.updated))
}

// writeUserREST renders a DirectoryUserWithGroups. groups is the deprecated
// list: empty unless the legacy flag is on.
func (st *store) writeUserREST(w *jw, u *user, legacy bool) {
	writeUserFields(w, u)
	w.karr("groups")
	if legacy {
		for _, g := range st.groupsOf(u) {
			writeGroup(w, g)
		}
	}
	w.endArr()
	w.endObj()
}

func writeGroup(w *jw, g *group) {
	w.obj()
	writeGroupFields(w, g)
	w.endObj()
}

func writeGroupFields(w *jw, g *group) {
	w.kstr("object", "directory_group")
	w.kstr("id", g.id)
	w.kstr("idp_id", g.idpID)
	w.kstr("directory_id", g.dirID)
	w.kstr("organization_id", g.orgID)
	w.kstr("name", g.name)
	w.kobj("raw_attributes")
	w.endObj()
	w.kstr("created_at", ts(g.created))
	w.kstr("updated_at", ts(g.updated))
}

func writePrev(w *jw, prev []prevAttr) {
	w.kobj("previous_attributes")
	hasCustom := false
	for _, p := range prev {
		if p.custom {
			hasCustom = true
			continue
		}
		w.key(p.key)
		if p.key == "role" {
			// role is an object on the user, so its old value is one too.
			w.obj()
			w.kstr("slug", p.val)
			w.endObj()
			continue
		}
		w.strOrNull(p.val, !p.null)
	}
	if hasCustom {
		w.kobj("custom_attributes")
		for _, p := range prev {
			if p.custom {
				w.key(p.key)
				w.strOrNull(p.val, !p.null)
			}
		}
		w.endObj()
	}
	w.endObj()
}

// writeEventData renders an event's data object.
func writeEventData(w *jw, e *event) {
	switch e.name {
	case evActivated, evDeleted:
		writeEventDirectory(w, e.dir, e.domains, e.name == evActivated)
	case evUserCreated, evUserDeleted:
		writeUserFields(w, e.user)
		w.endObj()
	case evUserUpdated:
		writeUserFields(w, e.user)
		writePrev(w, e.prev)
		w.endObj()
	case evGrpCreated, evGrpDeleted:
		writeGroup(w, e.group)
	case evGrpUpdated:
		w.obj()
		writeGroupFields(w, e.group)
		writePrev(w, e.prev)
		w.endObj()
	case evUserAdded, evUserRemoved:
		w.obj()
		w.kstr("directory_id", e.dirID)
		w.key("user")
		writeUserFields(w, e.user)
		w.endObj()
		w.key("group")
		writeGroup(w, e.group)
		w.endObj()
	default:
		if e.raw != nil {
			w.raw(e.raw)
			return
		}
		w.obj()
		w.endObj()
	}
}

// writeEvent renders an event for the Events API (withObject) or as a
// webhook body (no "object" key, as WorkOS sends them).
func writeEvent(w *jw, e *event, withObject bool) {
	w.obj()
	if withObject {
		w.kstr("object", "event")
	}
	w.kstr("id", e.id)
	w.kstr("event", e.name)
	w.key("data")
	writeEventData(w, e)
	w.kstr("created_at", ts(e.at))
	if withObject {
		w.kobj("context")
		w.endObj()
	}
	w.endObj()
}

func writeOrgDomain(w *jw, orgID string, d orgDomain) {
	w.obj()
	w.kstr("object", "organization_domain")
	w.kstr("id", d.id)
	w.kstr("organization_id", orgID)
	w.kstr("domain", d.domain)
	w.kstr("state", d.state)
	if d.strategy != "" {
		w.kstr("verification_strategy", d.strategy)
	}
	w.kstr("created_at", ts(d.created))
	w.kstr("updated_at", ts(d.updated))
	w.endObj()
}

func writeOrg(w *jw, o *org) {
	w.obj()
	w.kstr("object", "organization")
	w.kstr("id", o.id)
	w.kstr("name", o.name)
	w.karr("domains")
	for _, d := range o.domains {
		writeOrgDomain(w, o.id, d)
	}
	w.endArr()
	w.kobj("metadata")
	for _, a := range o.metadata {
		w.kstr(a.key, a.val)
	}
	w.endObj()
	w.kstrOrNull("external_id", o.externalID, o.externalID != "")
	w.kstr("created_at", ts(o.created))
	w.kstr("updated_at", ts(o.updated))
	w.kbool("allow_profiles_outside_organization", false)
	w.endObj()
}
