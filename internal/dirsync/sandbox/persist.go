package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The state file is the sandbox's own snapshot format (not the wire
// format): object versions are stored once in tables and events refer to
// them by index, so the seeded history costs no more than the state.

const stateVersion = 1

type snapFile struct {
	Version     int         `json:"version"`
	Orgs        []snapOrg   `json:"orgs"`
	Dirs        []snapDir   `json:"dirs"`         // every directory version
	CurDirs     []int       `json:"current_dirs"` // indices into Dirs
	Users       []snapUser  `json:"users"`
	CurUsers    []int       `json:"current_users"`
	Groups      []snapGroup `json:"groups"`
	CurGroups   []int       `json:"current_groups"`
	Memberships [][2]string `json:"memberships"` // group id, user id
	Events      []snapEvent `json:"events"`
}

type snapDomain struct {
	ID, Domain, State, Strategy string
	Created, Updated            int64
}

type snapOrg struct {
	ID, Name, ExternalID string
	Domains              []snapDomain
	Metadata             [][2]string
	Created, Updated     int64
}

type snapDir struct {
	ID, OrgID, ExternalKey, Type, State, Name, Domain string
	Created, Updated                                  int64
}

type snapUser struct {
	ID, DirID, OrgID, IdpID, Email string
	NoEmail                        bool `json:",omitempty"`
	First, Last, State, Role       string
	Custom                         [][2]string
	Created, Updated               int64
}

type snapGroup struct {
	ID, DirID, OrgID, IdpID, Name string
	Created, Updated              int64
}

type snapPrev struct {
	Key, Val     string
	Null, Custom bool `json:",omitempty"`
}

type snapEvent struct {
	ID, Name string
	At       int64
	OrgID    string
	Dir      int `json:",omitempty"` // index+1 into Dirs (0 = none)
	Domains  []snapDomain
	DirID    string `json:",omitempty"`
	User     int    `json:",omitempty"` // index+1
	Group    int    `json:",omitempty"`
	Prev     []snapPrev
	Raw      string `json:",omitempty"` // a string, so the bytes survive exactly
}

func domainsToSnap(ds []orgDomain) []snapDomain {
	var out []snapDomain
	for _, d := range ds {
		out = append(out, snapDomain{d.id, d.domain, d.state, d.strategy, d.created, d.updated})
	}
	return out
}

func domainsFromSnap(ds []snapDomain) []orgDomain {
	var out []orgDomain
	for _, d := range ds {
		out = append(out, orgDomain{d.ID, d.Domain, d.State, d.Strategy, d.Created, d.Updated})
	}
	return out
}

// snapshot captures the state; call with s.mu held (read).
func (s *Sandbox) snapshot() *snapFile {
	f := &snapFile{Version: stateVersion}
	dirIdx := map[*directory]int{}
	userIdx := map[*user]int{}
	groupIdx := map[*group]int{}
	addDir := func(d *directory) int {
		if i, ok := dirIdx[d]; ok {
			return i
		}
		f.Dirs = append(f.Dirs, snapDir{d.id, d.orgID, d.externalKey, d.typ, d.state, d.name, d.domain, d.created, d.updated})
		dirIdx[d] = len(f.Dirs) - 1
		return len(f.Dirs) - 1
	}
	addUser := func(u *user) int {
		if i, ok := userIdx[u]; ok {
			return i
		}
		su := snapUser{ID: u.id, DirID: u.dirID, OrgID: u.orgID, IdpID: u.idpID, Email: u.email, NoEmail: u.noEmail,
			First: u.first, Last: u.last, State: u.state, Role: u.role, Created: u.created, Updated: u.updated}
		for _, a := range u.custom {
			su.Custom = append(su.Custom, [2]string{a.key, a.val})
		}
		f.Users = append(f.Users, su)
		userIdx[u] = len(f.Users) - 1
		return len(f.Users) - 1
	}
	addGroup := func(g *group) int {
		if i, ok := groupIdx[g]; ok {
			return i
		}
		f.Groups = append(f.Groups, snapGroup{g.id, g.dirID, g.orgID, g.idpID, g.name, g.created, g.updated})
		groupIdx[g] = len(f.Groups) - 1
		return len(f.Groups) - 1
	}
	for _, o := range s.st.orgs {
		so := snapOrg{ID: o.id, Name: o.name, ExternalID: o.externalID, Domains: domainsToSnap(o.domains), Created: o.created, Updated: o.updated}
		for _, a := range o.metadata {
			so.Metadata = append(so.Metadata, [2]string{a.key, a.val})
		}
		f.Orgs = append(f.Orgs, so)
	}
	for _, d := range s.st.dirs {
		f.CurDirs = append(f.CurDirs, addDir(d))
		dd := s.st.data[d.id]
		for _, u := range dd.users {
			f.CurUsers = append(f.CurUsers, addUser(u))
		}
		for _, g := range dd.groups {
			f.CurGroups = append(f.CurGroups, addGroup(g))
			for _, uid := range dd.members[g.id] {
				f.Memberships = append(f.Memberships, [2]string{g.id, uid})
			}
		}
	}
	for _, e := range s.st.events {
		se := snapEvent{ID: e.id, Name: e.name, At: e.at, OrgID: e.orgID, DirID: e.dirID, Domains: domainsToSnap(e.domains), Raw: string(e.raw)}
		if e.dir != nil {
			se.Dir = addDir(e.dir) + 1
		}
		if e.user != nil {
			se.User = addUser(e.user) + 1
		}
		if e.group != nil {
			se.Group = addGroup(e.group) + 1
		}
		for _, p := range e.prev {
			se.Prev = append(se.Prev, snapPrev{p.key, p.val, p.null, p.custom})
		}
		f.Events = append(f.Events, se)
	}
	return f
}

// restore replaces the store with f; call with no one else using s.
func (s *Sandbox) restore(f *snapFile) error {
	if f.Version != stateVersion {
		return fmt.Errorf("sandbox: state file version %d, want %d", f.Version, stateVersion)
	}
	st := newStore()
	dirs := make([]*directory, len(f.Dirs))
	for i, d := range f.Dirs {
		dirs[i] = &directory{d.ID, d.OrgID, d.ExternalKey, d.Type, d.State, d.Name, d.Domain, d.Created, d.Updated}
		s.ids.observe(d.ID, "directory_")
	}
	users := make([]*user, len(f.Users))
	for i, u := range f.Users {
		nu := &user{id: u.ID, dirID: u.DirID, orgID: u.OrgID, idpID: u.IdpID, email: u.Email, noEmail: u.NoEmail,
			first: u.First, last: u.Last, state: u.State, role: u.Role, created: u.Created, updated: u.Updated}
		for _, a := range u.Custom {
			nu.custom = append(nu.custom, attr{a[0], a[1]})
		}
		sortAttrs(nu.custom)
		users[i] = nu
		s.ids.observe(u.ID, "directory_user_")
	}
	groups := make([]*group, len(f.Groups))
	for i, g := range f.Groups {
		groups[i] = &group{g.ID, g.DirID, g.OrgID, g.IdpID, g.Name, g.Created, g.Updated}
		s.ids.observe(g.ID, "directory_group_")
	}
	for _, o := range f.Orgs {
		no := &org{id: o.ID, name: o.Name, externalID: o.ExternalID, domains: domainsFromSnap(o.Domains), created: o.Created, updated: o.Updated}
		for _, a := range o.Metadata {
			no.metadata = append(no.metadata, attr{a[0], a[1]})
		}
		sortAttrs(no.metadata)
		st.putOrg(no)
		s.ids.observe(o.ID, "org_")
		for _, d := range o.Domains {
			s.ids.observe(d.ID, "org_domain_")
		}
	}
	get := func(n, i int) (int, error) {
		if i < 0 || i >= n {
			return 0, errors.New("sandbox: state file refers to a missing object")
		}
		return i, nil
	}
	for _, i := range f.CurDirs {
		if _, err := get(len(dirs), i); err != nil {
			return err
		}
		st.putDir(dirs[i])
	}
	for _, i := range f.CurUsers {
		if _, err := get(len(users), i); err != nil {
			return err
		}
		if st.data[users[i].dirID] == nil {
			return errors.New("sandbox: state file has a user without directory")
		}
		st.putUser(users[i])
	}
	for _, i := range f.CurGroups {
		if _, err := get(len(groups), i); err != nil {
			return err
		}
		if st.data[groups[i].dirID] == nil {
			return errors.New("sandbox: state file has a group without directory")
		}
		st.putGroup(groups[i])
	}
	for _, m := range f.Memberships {
		g, u := st.groups[m[0]], st.users[m[1]]
		if g == nil || u == nil || g.dirID != u.dirID {
			return errors.New("sandbox: state file has a broken membership")
		}
		st.addMembership(g.dirID, g.id, u.id)
	}
	for _, se := range f.Events {
		e := &event{id: se.ID, name: se.Name, at: se.At, orgID: se.OrgID, dirID: se.DirID, domains: domainsFromSnap(se.Domains)}
		if se.Raw != "" {
			e.raw = []byte(se.Raw)
		}
		var err error
		var i int
		if se.Dir > 0 {
			if i, err = get(len(dirs), se.Dir-1); err != nil {
				return err
			}
			e.dir = dirs[i]
		}
		if se.User > 0 {
			if i, err = get(len(users), se.User-1); err != nil {
				return err
			}
			e.user = users[i]
		}
		if se.Group > 0 {
			if i, err = get(len(groups), se.Group-1); err != nil {
				return err
			}
			e.group = groups[i]
		}
		for _, p := range se.Prev {
			e.prev = append(e.prev, prevAttr{p.Key, p.Val, p.Null, p.Custom})
		}
		st.events = append(st.events, e)
		s.ids.observe(se.ID, "event_")
	}
	s.st = st
	return nil
}

// load reads the state file; it reports false when the file does not exist.
func (s *Sandbox) load(path string) (bool, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sandbox: open state: %w", err)
	}
	defer fh.Close()
	var f snapFile
	if err := json.NewDecoder(bufio.NewReader(fh)).Decode(&f); err != nil {
		return false, fmt.Errorf("sandbox: read state %s: %w", path, err)
	}
	if err := s.restore(&f); err != nil {
		return false, err
	}
	return true, nil
}

// saver writes the state file at most once per debounce interval after
// changes, and on Close.
type saver struct {
	s    *Sandbox
	path string
	kick chan struct{}

	mu       sync.Mutex
	dirty    bool
	debounce time.Duration
}

func newSaver(s *Sandbox, path string) *saver {
	return &saver{s: s, path: path, debounce: time.Second, kick: make(chan struct{}, 1)}
}

func (sv *saver) touch() {
	if sv.path == "" {
		return
	}
	sv.mu.Lock()
	sv.dirty = true
	sv.mu.Unlock()
	select {
	case sv.kick <- struct{}{}:
	default:
	}
}

func (sv *saver) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sv.kick:
		}
		sv.mu.Lock()
		wait := sv.debounce
		sv.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return // Close saves.
		case <-t.C:
		}
		if err := sv.saveIfDirty(); err != nil {
			sv.s.log.Error("sandbox: save state", "err", err)
		}
	}
}

func (sv *saver) saveIfDirty() error {
	sv.mu.Lock()
	dirty := sv.dirty
	sv.dirty = false
	sv.mu.Unlock()
	if !dirty {
		return nil
	}
	return sv.write()
}

// saveNow writes the state file if a path is configured.
func (sv *saver) saveNow() error {
	if sv.path == "" {
		return nil
	}
	sv.mu.Lock()
	sv.dirty = false
	sv.mu.Unlock()
	return sv.write()
}

func (sv *saver) write() error {
	sv.s.mu.RLock()
	f := sv.s.snapshot()
	sv.s.mu.RUnlock()
	dir := filepath.Dir(sv.path)
	tmp, err := os.CreateTemp(dir, ".sandbox-state-*")
	if err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = json.NewEncoder(w).Encode(f)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), sv.path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	return nil
}
