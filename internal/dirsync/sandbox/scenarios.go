package sandbox

import (
	"context"
	"strings"
	"sync"
	"time"
)

type scenarioResult struct {
	name, dirID string
	userIDs     []string
	events      int
}

const maxScenarioCount = 1000

// opScenario runs a named scenario on a directory (default: the first one).
//
//   - new-hires: count people join; each gets user.created, then
//     group.user_added for All Staff, their department and office groups.
//   - reorg: count active people move to another department: user.updated
//     (department, job_title, manager_email), user_removed from the old
//     department group, user_added to the new one.
//   - leavers: count active people leave: mode "deactivate" (default) sets
//     state inactive (user.updated); mode "delete" removes them
//     (user_removed for each group, then user.deleted).
func (s *Sandbox) opScenario(name, dirID string, count int, mode string) (scenarioResult, error) {
	if count == 0 {
		count = 5
	}
	if count < 0 || count > maxScenarioCount {
		return scenarioResult{}, invalid("count", "count must be between 1 and 1000")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var d *directory
	if dirID == "" {
		if len(s.st.dirs) == 0 {
			return scenarioResult{}, invalid("directory_id", "there is no directory")
		}
		d = s.st.dirs[0]
	} else if d = s.st.dir(dirID); d == nil {
		return scenarioResult{}, &notFoundError{"Directory", dirID}
	}
	res := scenarioResult{name: name, dirID: d.id}
	before := len(s.st.events)
	c := s.live()
	switch name {
	case "new-hires":
		for range count {
			u, err := s.randomHire(c, d)
			if err != nil {
				return res, err
			}
			res.userIDs = append(res.userIDs, u.id)
		}
	case "reorg":
		for _, u := range s.pickActive(d, count) {
			s.moveDepartment(c, u)
			res.userIDs = append(res.userIDs, u.id)
		}
	case "leavers":
		switch mode {
		case "", "deactivate", "delete":
		default:
			return res, invalid("mode", "mode must be deactivate or delete")
		}
		for _, u := range s.pickActive(d, count) {
			if mode == "delete" {
				s.deleteUser(c, u)
			} else {
				_, _ = s.updateUser(c, u, []userChange{{key: "state", val: "inactive"}})
			}
			res.userIDs = append(res.userIDs, u.id)
		}
	default:
		return res, invalid("name", "unknown scenario "+name+" (want new-hires, reorg or leavers)")
	}
	res.events = len(s.st.events) - before
	return res, nil
}

// groupNamed returns the directory's first group with that name.
func (s *Sandbox) groupNamed(d *directory, name string) *group {
	for _, g := range s.st.data[d.id].groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

func officeGroupName(location string) string {
	if location == "Remote" {
		return "Remote Workers"
	}
	return "Office – " + strings.SplitN(location, ",", 2)[0]
}

// randomHire makes up a plausible new colleague.
func (s *Sandbox) randomHire(c clk, d *directory) (*user, error) {
	f := s.fake
	dept := departments[pickWeighted(f)]
	loc := locations[f.IntN(len(locations))]
	custom := map[string]string{
		"department":    dept.name,
		"job_title":     dept.titles[f.IntN(len(dept.titles))],
		"location":      loc,
		"employee_type": "Full-time",
	}
	if m := s.someone(d, func(u *user) bool { v, _ := u.attr("department"); return v == dept.name }); m != nil {
		custom["manager_email"] = m.email
	}
	var gids []string
	for _, n := range []string{"All Staff", dept.name, officeGroupName(loc)} {
		if g := s.groupNamed(d, n); g != nil {
			gids = append(gids, g.id)
		}
	}
	return s.hire(c, d, hireInput{FirstName: f.FirstName(), LastName: f.LastName(), Custom: custom, GroupIDs: gids})
}

// someone returns a random active user with an email matching ok, or nil.
func (s *Sandbox) someone(d *directory, ok func(*user) bool) *user {
	users := s.st.data[d.id].users
	if len(users) == 0 {
		return nil
	}
	start := s.fake.IntN(len(users))
	for i := range users {
		u := users[(start+i)%len(users)]
		if u.state == "active" && !u.noEmail && ok(u) {
			return u
		}
	}
	return nil
}

// pickActive returns up to n distinct random active users.
func (s *Sandbox) pickActive(d *directory, n int) []*user {
	var active []*user
	for _, u := range s.st.data[d.id].users {
		if u.state == "active" {
			active = append(active, u)
		}
	}
	s.fake.ShuffleAnySlice(active)
	return active[:min(n, len(active))]
}

func (s *Sandbox) moveDepartment(c clk, u *user) {
	f := s.fake
	old, _ := u.attr("department")
	dept := departments[f.IntN(len(departments))]
	for dept.name == old {
		dept = departments[f.IntN(len(departments))]
	}
	d := s.st.dir(u.dirID)
	changes := []userChange{
		{key: "department", val: dept.name, custom: true},
		{key: "job_title", val: dept.titles[f.IntN(len(dept.titles))], custom: true},
	}
	if m := s.someone(d, func(m *user) bool { v, _ := m.attr("department"); return v == dept.name && m.id != u.id }); m != nil {
		changes = append(changes, userChange{key: "manager_email", val: m.email, custom: true})
	}
	nu, _ := s.updateUser(c, u, changes)
	if g := s.groupNamed(d, old); g != nil {
		s.removeMember(c, g, nu)
	}
	if g := s.groupNamed(d, dept.name); g != nil {
		_, _ = s.addMember(c, g, nu)
	}
}

// churner makes one random change every minute/N while N > 0.
type churner struct {
	s      *Sandbox
	mu     sync.Mutex
	perMin int
	reset  chan struct{}
}

func newChurner(s *Sandbox) *churner {
	return &churner{s: s, reset: make(chan struct{}, 1)}
}

func (ch *churner) set(n int) {
	ch.mu.Lock()
	ch.perMin = n
	ch.mu.Unlock()
	select {
	case ch.reset <- struct{}{}:
	default:
	}
}

func (ch *churner) rate() int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.perMin
}

func (ch *churner) run(ctx context.Context) {
	for {
		n := ch.rate()
		var tick <-chan time.Time
		var t *time.Ticker
		if n > 0 {
			t = time.NewTicker(time.Minute / time.Duration(n))
			tick = t.C
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-ch.reset:
		case <-tick:
			ch.s.churnOnce()
		}
		if t != nil {
			t.Stop()
		}
	}
}

// churnOnce applies one random change to a random directory.
func (s *Sandbox) churnOnce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.st.dirs) == 0 {
		return
	}
	f := s.fake
	d := s.st.dirs[f.IntN(len(s.st.dirs))]
	c := s.live()
	dd := s.st.data[d.id]
	r := f.IntN(100)
	switch {
	case r < 25 || len(dd.users) == 0:
		_, _ = s.randomHire(c, d)
	case r < 50:
		if us := s.pickActive(d, 1); len(us) == 1 {
			dept := departments[f.IntN(len(departments))]
			_, _ = s.updateUser(c, us[0], []userChange{{key: "job_title", val: dept.titles[f.IntN(len(dept.titles))], custom: true}})
		}
	case r < 65:
		if us := s.pickActive(d, 1); len(us) == 1 && len(dd.groups) > 0 {
			_, _ = s.addMember(c, dd.groups[f.IntN(len(dd.groups))], us[0])
		}
	case r < 78:
		if us := s.pickActive(d, 1); len(us) == 1 {
			if gs := s.st.groupsOf(us[0]); len(gs) > 0 {
				s.removeMember(c, gs[f.IntN(len(gs))], us[0])
			}
		}
	case r < 85:
		if us := s.pickActive(d, 1); len(us) == 1 {
			s.moveDepartment(c, us[0])
		}
	case r < 93:
		if us := s.pickActive(d, 1); len(us) == 1 {
			_, _ = s.updateUser(c, us[0], []userChange{{key: "state", val: "inactive"}})
		}
	default:
		if us := s.pickActive(d, 1); len(us) == 1 {
			s.deleteUser(c, us[0])
		}
	}
}
