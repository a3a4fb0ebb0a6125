package sandbox

import (
	"slices"
	"sort"
	"strings"
)

// The sandbox keeps its data as compact immutable values: a change makes a
// new version of the object and swaps the pointer, so events keep pointing at
// the version they describe without copying, and the seeded history shares
// every value with the current state. JSON is derived on demand.

type org struct {
	id, name   string
	externalID string // "" renders as null
	domains    []orgDomain
	metadata   []attr // sorted by key
	created    int64  // unix milliseconds
	updated    int64
}

type orgDomain struct {
	id, domain, state, strategy string
	created, updated            int64
}

type directory struct {
	id, orgID, externalKey, typ, state, name, domain string
	created, updated                                 int64
}

// attr is one custom attribute; a user's attrs are sorted by key.
type attr struct{ key, val string }

type user struct {
	id, dirID, orgID, idpID string
	email                   string
	noEmail                 bool
	first, last             string
	state                   string
	role                    string
	custom                  []attr
	created, updated        int64
}

func (u *user) name() string {
	return strings.TrimSpace(u.first + " " + u.last)
}

func (u *user) attr(k string) (string, bool) {
	i, ok := slices.BinarySearchFunc(u.custom, k, func(a attr, k string) int { return strings.Compare(a.key, k) })
	if !ok {
		return "", false
	}
	return u.custom[i].val, true
}

// withAttr returns a copy of attrs with k set to v (or removed when del).
func withAttr(attrs []attr, k, v string, del bool) []attr {
	out := make([]attr, 0, len(attrs)+1)
	done := false
	for _, a := range attrs {
		if a.key == k {
			done = true
			if !del {
				out = append(out, attr{k, v})
			}
			continue
		}
		if !done && a.key > k {
			done = true
			if !del {
				out = append(out, attr{k, v})
			}
		}
		out = append(out, a)
	}
	if !done && !del {
		out = append(out, attr{k, v})
	}
	return out
}

type group struct {
	id, dirID, orgID, idpID, name string
	created, updated              int64
}

// Event names.
const (
	evActivated   = "dsync.activated"
	evDeleted     = "dsync.deleted"
	evUserCreated = "dsync.user.created"
	evUserUpdated = "dsync.user.updated"
	evUserDeleted = "dsync.user.deleted"
	evGrpCreated  = "dsync.group.created"
	evGrpUpdated  = "dsync.group.updated"
	evGrpDeleted  = "dsync.group.deleted"
	evUserAdded   = "dsync.group.user_added"
	evUserRemoved = "dsync.group.user_removed"
)

// prevAttr is one entry of previous_attributes; custom entries are rendered
// inside a nested custom_attributes object.
type prevAttr struct {
	key    string
	val    string
	null   bool
	custom bool
}

type event struct {
	id      string
	name    string
	at      int64
	orgID   string
	dir     *directory  // dsync.activated / dsync.deleted
	domains []orgDomain // dsync.activated
	dirID   string      // membership events
	user    *user
	group   *group
	prev    []prevAttr
	raw     []byte // pre-rendered data (organization events)
}

// dirData indexes one directory's users, groups and memberships. Slices are
// sorted by id, which is creation order since ids are monotonic ULIDs.
type dirData struct {
	users      []*user
	groups     []*group
	members    map[string][]string // group id -> sorted user ids
	userGroups map[string][]string // user id -> sorted group ids
}

type store struct {
	orgs   []*org // sorted by id
	dirs   []*directory
	data   map[string]*dirData
	users  map[string]*user
	groups map[string]*group
	events []*event // ascending ids
}

func newStore() *store {
	return &store{data: map[string]*dirData{}, users: map[string]*user{}, groups: map[string]*group{}}
}

func byID[T any](list []T, id string, idOf func(T) string) (int, bool) {
	return sort.Find(len(list), func(i int) int { return strings.Compare(id, idOf(list[i])) })
}

func userID(u *user) string     { return u.id }
func groupID(g *group) string   { return g.id }
func dirID(d *directory) string { return d.id }
func orgIDOf(o *org) string     { return o.id }
func eventID(e *event) string   { return e.id }
func identity(s string) string  { return s }
func insertSorted(list []string, id string) []string {
	i, ok := byID(list, id, identity)
	if ok {
		return list
	}
	return slices.Insert(list, i, id)
}

func removeSorted(list []string, id string) []string {
	i, ok := byID(list, id, identity)
	if !ok {
		return list
	}
	return slices.Delete(slices.Clip(list), i, i+1)
}

func (st *store) org(id string) *org {
	if i, ok := byID(st.orgs, id, orgIDOf); ok {
		return st.orgs[i]
	}
	return nil
}

func (st *store) dir(id string) *directory {
	if i, ok := byID(st.dirs, id, dirID); ok {
		return st.dirs[i]
	}
	return nil
}

func (st *store) putOrg(o *org) {
	i, ok := byID(st.orgs, o.id, orgIDOf)
	if ok {
		st.orgs[i] = o
		return
	}
	st.orgs = slices.Insert(st.orgs, i, o)
}

func (st *store) putDir(d *directory) {
	i, ok := byID(st.dirs, d.id, dirID)
	if ok {
		st.dirs[i] = d
		return
	}
	st.dirs = slices.Insert(st.dirs, i, d)
	st.data[d.id] = &dirData{members: map[string][]string{}, userGroups: map[string][]string{}}
}

func (st *store) putUser(u *user) {
	dd := st.data[u.dirID]
	i, ok := byID(dd.users, u.id, userID)
	if ok {
		dd.users[i] = u
	} else {
		dd.users = slices.Insert(dd.users, i, u)
	}
	st.users[u.id] = u
}

func (st *store) putGroup(g *group) {
	dd := st.data[g.dirID]
	i, ok := byID(dd.groups, g.id, groupID)
	if ok {
		dd.groups[i] = g
	} else {
		dd.groups = slices.Insert(dd.groups, i, g)
	}
	st.groups[g.id] = g
}

func (st *store) dropUser(u *user) {
	dd := st.data[u.dirID]
	if i, ok := byID(dd.users, u.id, userID); ok {
		dd.users = slices.Delete(dd.users, i, i+1)
	}
	delete(dd.userGroups, u.id)
	delete(st.users, u.id)
}

func (st *store) dropGroup(g *group) {
	dd := st.data[g.dirID]
	if i, ok := byID(dd.groups, g.id, groupID); ok {
		dd.groups = slices.Delete(dd.groups, i, i+1)
	}
	delete(dd.members, g.id)
	delete(st.groups, g.id)
}

func (st *store) addMembership(dirID, gid, uid string) bool {
	dd := st.data[dirID]
	before := len(dd.members[gid])
	dd.members[gid] = insertSorted(dd.members[gid], uid)
	if len(dd.members[gid]) == before {
		return false
	}
	dd.userGroups[uid] = insertSorted(dd.userGroups[uid], gid)
	return true
}

func (st *store) removeMembership(dirID, gid, uid string) bool {
	dd := st.data[dirID]
	before := len(dd.members[gid])
	dd.members[gid] = removeSorted(dd.members[gid], uid)
	if len(dd.members[gid]) == before {
		return false
	}
	if len(dd.members[gid]) == 0 {
		delete(dd.members, gid)
	}
	dd.userGroups[uid] = removeSorted(dd.userGroups[uid], gid)
	if len(dd.userGroups[uid]) == 0 {
		delete(dd.userGroups, uid)
	}
	return true
}

// groupsOf returns the groups a user belongs to, sorted by id.
func (st *store) groupsOf(u *user) []*group {
	ids := st.data[u.dirID].userGroups[u.id]
	out := make([]*group, 0, len(ids))
	for _, id := range ids {
		out = append(out, st.groups[id])
	}
	return out
}

func (st *store) removeDir(d *directory) {
	dd := st.data[d.id]
	for _, u := range dd.users {
		delete(st.users, u.id)
	}
	for _, g := range dd.groups {
		delete(st.groups, g.id)
	}
	delete(st.data, d.id)
	if i, ok := byID(st.dirs, d.id, dirID); ok {
		st.dirs = slices.Delete(st.dirs, i, i+1)
	}
}

// dirCounts returns active users, inactive users and groups of a directory.
func (st *store) dirCounts(id string) (active, inactive, groups int) {
	dd := st.data[id]
	if dd == nil {
		return 0, 0, 0
	}
	for _, u := range dd.users {
		if u.state == "active" {
			active++
		} else {
			inactive++
		}
	}
	return active, inactive, len(dd.groups)
}
