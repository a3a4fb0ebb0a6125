package sandbox

import (
	"fmt"
	"slices"
	"strings"
)

// clk carries the time of a change: at is the created_at of objects and
// events; idAt is the time used for their ULIDs. Live changes use now for
// both; seeding uses a fixed epoch for ids so that they do not depend on
// the day the sandbox starts.
type clk struct{ at, idAt int64 }

// step returns the clock advanced by d milliseconds.
func (c clk) step(d int64) clk { return clk{c.at + d, c.idAt + d} }

type notFoundError struct{ entity, id string }

func (e *notFoundError) Error() string { return fmt.Sprintf("%s not found: '%s'.", e.entity, e.id) }

type fieldError struct{ field, code string }

type validationError struct{ errs []fieldError }

func (e *validationError) Error() string {
	parts := make([]string, len(e.errs))
	for i, f := range e.errs {
		parts[i] = f.field + ": " + f.code
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

func invalid(field, code string) error {
	return &validationError{errs: []fieldError{{field, code}}}
}

// All methods below expect s.mu to be held for writing.

func (s *Sandbox) emit(c clk, e *event) *event {
	e.id = s.ids.next("event_", c.idAt)
	e.at = c.at
	s.st.events = append(s.st.events, e)
	if s.onEvent != nil {
		s.onEvent(e)
	}
	return e
}

func (s *Sandbox) addOrg(c clk, name string, domains []string, domainState string) *org {
	o := &org{id: s.ids.next("org_", c.idAt), name: name, created: c.at, updated: c.at}
	for _, d := range domains {
		o.domains = append(o.domains, orgDomain{id: s.ids.next("org_domain_", c.idAt), domain: d, state: domainState, strategy: "manual", created: c.at, updated: c.at})
	}
	s.st.putOrg(o)
	return o
}

// addDirectory creates a directory; a linked one emits dsync.activated.
func (s *Sandbox) addDirectory(c clk, o *org, typ, name, domain, state string) *directory {
	d := &directory{
		id: s.ids.next("directory_", c.idAt), orgID: o.id, externalKey: s.randToken(16),
		typ: typ, state: state, name: name, domain: domain, created: c.at, updated: c.at,
	}
	s.st.putDir(d)
	if state == "linked" {
		s.emit(c, &event{name: evActivated, orgID: o.id, dir: d, domains: slices.Clone(o.domains)})
	}
	return d
}

// activateDirectory moves a validating directory to linked.
func (s *Sandbox) activateDirectory(c clk, d *directory) *directory {
	nd := *d
	nd.state = "linked"
	nd.updated = c.at
	s.st.putDir(&nd)
	var domains []orgDomain
	if o := s.st.org(d.orgID); o != nil {
		domains = slices.Clone(o.domains)
	}
	s.emit(c, &event{name: evActivated, orgID: d.orgID, dir: &nd, domains: domains})
	return &nd
}

func (s *Sandbox) addGroup(c clk, d *directory, name, idpID string) *group {
	g := &group{id: s.ids.next("directory_group_", c.idAt), dirID: d.id, orgID: d.orgID, idpID: idpID, name: name, created: c.at, updated: c.at}
	s.st.putGroup(g)
	s.emit(c, &event{name: evGrpCreated, orgID: d.orgID, group: g})
	return g
}

// addUser stores u (id and timestamps assigned here) and emits user.created.
func (s *Sandbox) addUser(c clk, d *directory, u *user) *user {
	u.id = s.ids.next("directory_user_", c.idAt)
	u.dirID, u.orgID = d.id, d.orgID
	u.created, u.updated = c.at, c.at
	if u.state == "" {
		u.state = "active"
	}
	s.st.putUser(u)
	s.emit(c, &event{name: evUserCreated, orgID: d.orgID, user: u})
	return u
}

func (s *Sandbox) addMember(c clk, g *group, u *user) (bool, error) {
	if g.dirID != u.dirID {
		return false, invalid("user_id", "User and group belong to different directories.")
	}
	if !s.st.addMembership(g.dirID, g.id, u.id) {
		return false, nil
	}
	s.emit(c, &event{name: evUserAdded, orgID: g.orgID, dirID: g.dirID, user: u, group: g})
	return true, nil
}

func (s *Sandbox) removeMember(c clk, g *group, u *user) bool {
	if !s.st.removeMembership(g.dirID, g.id, u.id) {
		return false
	}
	s.emit(c, &event{name: evUserRemoved, orgID: g.orgID, dirID: g.dirID, user: u, group: g})
	return true
}

// userChange is one requested attribute change. custom marks a key of
// custom_attributes; null removes it (or sets email to null).
type userChange struct {
	key    string
	val    string
	null   bool
	custom bool
}

// updateUser applies changes and emits dsync.user.updated with the previous
// values of the keys that really changed. It returns the new version, or u
// itself when nothing changed.
func (s *Sandbox) updateUser(c clk, u *user, changes []userChange) (*user, error) {
	nu := *u
	var prev []prevAttr
	for _, ch := range changes {
		if ch.custom {
			old, had := nu.attr(ch.key)
			if (ch.null && !had) || (!ch.null && had && old == ch.val) {
				continue
			}
			prev = append(prev, prevAttr{key: ch.key, val: old, null: !had, custom: true})
			nu.custom = withAttr(nu.custom, ch.key, ch.val, ch.null)
			continue
		}
		switch ch.key {
		case "first_name", "last_name":
			p := &nu.first
			if ch.key == "last_name" {
				p = &nu.last
			}
			v := ch.val
			if ch.null {
				v = ""
			}
			if *p == v {
				continue
			}
			prev = append(prev, prevAttr{key: ch.key, val: *p, null: *p == ""})
			*p = v
		case "email":
			if ch.null == nu.noEmail && (ch.null || nu.email == ch.val) {
				continue
			}
			prev = append(prev, prevAttr{key: "email", val: nu.email, null: nu.noEmail})
			nu.email, nu.noEmail = ch.val, ch.null
			if ch.null {
				nu.email = ""
			}
		case "state":
			if ch.val != "active" && ch.val != "inactive" {
				return nil, invalid("state", "state must be active or inactive")
			}
			if nu.state == ch.val {
				continue
			}
			prev = append(prev, prevAttr{key: "state", val: nu.state})
			nu.state = ch.val
		case "role":
			if ch.null || ch.val == "" {
				return nil, invalid("role", "role must be a non-empty slug")
			}
			if nu.role == ch.val {
				continue
			}
			// previous_attributes mirrors the object: role is {"slug": …}.
			prev = append(prev, prevAttr{key: "role", val: nu.role})
			nu.role = ch.val
		default:
			return nil, invalid(ch.key, "unknown attribute")
		}
	}
	if len(prev) == 0 {
		return u, nil
	}
	nu.custom = slices.Clip(nu.custom)
	nu.updated = c.at
	s.st.putUser(&nu)
	s.emit(c, &event{name: evUserUpdated, orgID: nu.orgID, user: &nu, prev: prev})
	return &nu, nil
}

// deleteUser removes the user's memberships (user_removed each) and then
// the user (dsync.user.deleted).
func (s *Sandbox) deleteUser(c clk, u *user) {
	for _, g := range s.st.groupsOf(u) {
		s.removeMember(c, g, u)
	}
	s.st.dropUser(u)
	s.emit(c, &event{name: evUserDeleted, orgID: u.orgID, user: u})
}

func (s *Sandbox) renameGroup(c clk, g *group, name string) *group {
	if g.name == name {
		return g
	}
	ng := *g
	ng.name = name
	ng.updated = c.at
	s.st.putGroup(&ng)
	s.emit(c, &event{name: evGrpUpdated, orgID: g.orgID, group: &ng, prev: []prevAttr{{key: "name", val: g.name}}})
	return &ng
}

// deleteGroup removes its members first (user_removed each), then the group.
func (s *Sandbox) deleteGroup(c clk, g *group) {
	members := slices.Clone(s.st.data[g.dirID].members[g.id])
	for _, uid := range members {
		s.removeMember(c, g, s.st.users[uid])
	}
	s.st.dropGroup(g)
	s.emit(c, &event{name: evGrpDeleted, orgID: g.orgID, group: g})
}

// deleteDirectory emits dsync.deleted (state deleting) and drops the
// directory with its users and groups; WorkOS sends no per-user events.
func (s *Sandbox) deleteDirectory(c clk, d *directory) {
	nd := *d
	nd.state = "deleting"
	nd.updated = c.at
	s.st.removeDir(d)
	s.emit(c, &event{name: evDeleted, orgID: d.orgID, dir: &nd})
}

// randToken returns n characters from the seeded generator (external keys).
func (s *Sandbox) randToken(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.ids.rnd.IntN(len(alphabet))]
	}
	return string(b)
}
