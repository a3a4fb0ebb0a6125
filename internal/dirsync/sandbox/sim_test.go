package sandbox

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type userJSON struct {
	ID               string            `json:"id"`
	DirectoryID      string            `json:"directory_id"`
	Email            *string           `json:"email"`
	FirstName        *string           `json:"first_name"`
	State            string            `json:"state"`
	CustomAttributes map[string]string `json:"custom_attributes"`
	Groups           []struct {
		ID string `json:"id"`
	} `json:"groups"`
	PreviousAttributes map[string]any `json:"previous_attributes"`
}

type memberEvent struct {
	DirectoryID string   `json:"directory_id"`
	User        userJSON `json:"user"`
	Group       struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"group"`
}

// groupsOfDir returns the directory's group ids, oldest first.
func groupsOfDir(st State, dir string) []string {
	var out []string
	for _, g := range st.Groups {
		if g.DirectoryID == dir {
			out = append(out, g.ID)
		}
	}
	return out
}

func TestSimulator_EachActionEmitsWorkOSEvents(t *testing.T) {
	h := newHarness(t, Options{})
	st := h.sb.State()
	dir := st.Directories[0].ID
	gs := groupsOfDir(st, dir)

	// Hire into two groups: user.created, then user_added per group.
	mark := h.lastEventID()
	body := `{"first_name":"Ada","last_name":"O'Neil","job_title":"<b>Boss</b> & co","department":"R&D","group_ids":["` + gs[0] + `","` + gs[1] + `"]}`
	u := decode[userJSON](t, h.control("POST", "/_sandbox/directories/"+dir+"/users", body, 201))
	if u.Email == nil || *u.Email != "ada.oneil@fabrikam.example" || u.CustomAttributes["job_title"] != "<b>Boss</b> & co" {
		t.Errorf("hired user = %+v", u)
	}
	evs := h.eventsSince(mark)
	if got := names(evs); !slices.Equal(got, []string{"dsync.user.created", "dsync.group.user_added", "dsync.group.user_added"}) {
		t.Fatalf("hire events = %v", got)
	}
	me := decode[memberEvent](t, evs[1].Data)
	if me.User.ID != u.ID || me.Group.ID != gs[0] || me.DirectoryID != dir {
		t.Errorf("user_added data = %+v", me)
	}

	// Attribute change: user.updated with previous_attributes.
	mark = h.lastEventID()
	u2 := decode[userJSON](t, h.control("PATCH", "/_sandbox/users/"+u.ID, `{"first_name":"Adah","job_title":"CTO","cost_center":"42"}`, 200))
	if u2.FirstName == nil || *u2.FirstName != "Adah" || u2.CustomAttributes["cost_center"] != "42" {
		t.Errorf("patched user = %+v", u2)
	}
	evs = h.eventsSince(mark)
	if len(evs) != 1 || evs[0].Event != "dsync.user.updated" {
		t.Fatalf("patch events = %v", names(evs))
	}
	upd := decode[userJSON](t, evs[0].Data)
	wantPrev := map[string]any{"first_name": "Ada", "custom_attributes": map[string]any{"job_title": "<b>Boss</b> & co", "cost_center": nil}}
	if !reflect.DeepEqual(upd.PreviousAttributes, wantPrev) {
		t.Errorf("previous_attributes = %v, want %v", upd.PreviousAttributes, wantPrev)
	}
	// A patch that changes nothing emits nothing.
	mark = h.lastEventID()
	h.control("PATCH", "/_sandbox/users/"+u.ID, `{"first_name":"Adah"}`, 200)
	if evs := h.eventsSince(mark); len(evs) != 0 {
		t.Errorf("no-op patch emitted %v", names(evs))
	}
	h.control("PATCH", "/_sandbox/users/"+u.ID, `{"1bad key":"x"}`, 422)
	h.control("PATCH", "/_sandbox/users/"+u.ID, `{"job_title":7}`, 422)

	// Deactivate and reactivate: user.updated with the state change.
	mark = h.lastEventID()
	d := decode[userJSON](t, h.control("POST", "/_sandbox/users/"+u.ID+"/deactivate", "", 200))
	h.control("POST", "/_sandbox/users/"+u.ID+"/reactivate", "", 200)
	evs = h.eventsSince(mark)
	if d.State != "inactive" || len(evs) != 2 {
		t.Fatalf("deactivate/reactivate: state %s, events %v", d.State, names(evs))
	}
	for i, want := range []string{"active", "inactive"} {
		if p := decode[userJSON](t, evs[i].Data).PreviousAttributes; p["state"] != want {
			t.Errorf("event %d previous state = %v, want %s", i, p, want)
		}
	}

	// Membership add/remove.
	mark = h.lastEventID()
	h.control("POST", "/_sandbox/groups/"+gs[2]+"/members", `{"user_id":"`+u.ID+`"}`, 200)
	h.control("POST", "/_sandbox/groups/"+gs[2]+"/members", `{"user_id":"`+u.ID+`"}`, 200) // already a member: no event
	h.control("DELETE", "/_sandbox/groups/"+gs[0]+"/members/"+u.ID, "", 200)
	if got := names(h.eventsSince(mark)); !slices.Equal(got, []string{"dsync.group.user_added", "dsync.group.user_removed"}) {
		t.Errorf("membership events = %v", got)
	}
	h.control("POST", "/_sandbox/groups/"+gs[2]+"/members", `{"user_id":"directory_user_nope"}`, 404)

	// Groups: create, rename, delete (members removed first).
	mark = h.lastEventID()
	g := decode[DirectoryGroup](t, h.control("POST", "/_sandbox/directories/"+dir+"/groups", `{"name":"Night Shift"}`, 201))
	h.control("POST", "/_sandbox/groups/"+g.ID+"/members", `{"user_id":"`+u.ID+`"}`, 200)
	h.control("PATCH", "/_sandbox/groups/"+g.ID, `{"name":"Day Shift"}`, 200)
	h.control("DELETE", "/_sandbox/groups/"+g.ID, "", 200)
	evs = h.eventsSince(mark)
	want := []string{"dsync.group.created", "dsync.group.user_added", "dsync.group.updated", "dsync.group.user_removed", "dsync.group.deleted"}
	if got := names(evs); !slices.Equal(got, want) {
		t.Fatalf("group events = %v, want %v", got, want)
	}
	var renamed struct {
		Name string            `json:"name"`
		Prev map[string]string `json:"previous_attributes"`
	}
	_ = json.Unmarshal(evs[2].Data, &renamed)
	if renamed.Name != "Day Shift" || renamed.Prev["name"] != "Night Shift" {
		t.Errorf("group.updated data = %+v", renamed)
	}
	h.get("/directory_groups/"+g.ID, 404)

	// Delete the user: user_removed for each group, then user.deleted.
	mark = h.lastEventID()
	h.control("DELETE", "/_sandbox/users/"+u.ID, "", 200)
	want = []string{"dsync.group.user_removed", "dsync.group.user_removed", "dsync.user.deleted"}
	if got := names(h.eventsSince(mark)); !slices.Equal(got, want) {
		t.Errorf("delete user events = %v, want %v", got, want)
	}
	h.get("/directory_users/"+u.ID, 404)
	for _, m := range h.sb.State().Memberships {
		if m.UserID == u.ID {
			t.Errorf("membership %v survived the user", m)
		}
	}

	// Delete the directory through the control API.
	mark = h.lastEventID()
	h.control("DELETE", "/_sandbox/directories/"+dir, "", 200)
	if got := names(h.eventsSince(mark)); !slices.Equal(got, []string{"dsync.deleted"}) {
		t.Errorf("delete directory events = %v", got)
	}
}

func TestSimulator_HireEdgeCases(t *testing.T) {
	h := newHarness(t, Options{})
	dir := h.sb.State().Directories[0].ID
	u := decode[userJSON](t, h.control("POST", "/_sandbox/directories/"+dir+"/users", `{"first_name":"No","last_name":"Mail","email":null}`, 201))
	if u.Email != nil {
		t.Errorf("email null requested, got %v", *u.Email)
	}
	h.control("POST", "/_sandbox/directories/"+dir+"/users", `{"email":"x@y.z"}`, 422)
	h.control("POST", "/_sandbox/directories/"+dir+"/users", `{"first_name":"A","group_ids":["directory_group_nope"]}`, 422)
	h.control("POST", "/_sandbox/directories/directory_nope/users", `{"first_name":"A"}`, 404)
	h.control("POST", "/_sandbox/directories/"+dir+"/users", `{not json`, 422)
}

func TestScenarios(t *testing.T) {
	h := newHarness(t, Options{})
	dir := h.sb.State().Directories[0].ID
	type result struct {
		UserIDs []string `json:"user_ids"`
		Events  int      `json:"events"`
	}
	before := len(h.sb.State().Users)
	mark := h.lastEventID()
	r := decode[result](t, h.control("POST", "/_sandbox/scenarios/new-hires", `{"count":3}`, 200))
	evs := h.eventsSince(mark)
	if len(r.UserIDs) != 3 || len(h.sb.State().Users) != before+3 || r.Events != len(evs) {
		t.Fatalf("new-hires: %+v, %d events", r, len(evs))
	}
	// Each hire: user.created followed by its memberships.
	created := 0
	for _, e := range evs {
		switch e.Event {
		case "dsync.user.created":
			created++
		case "dsync.group.user_added":
			if created == 0 {
				t.Fatalf("user_added before user.created")
			}
		default:
			t.Fatalf("unexpected %s", e.Event)
		}
	}

	mark = h.lastEventID()
	r = decode[result](t, h.control("POST", "/_sandbox/scenarios/reorg", `{"directory_id":"`+dir+`","count":2}`, 200))
	evs = h.eventsSince(mark)
	if len(r.UserIDs) != 2 || evs[0].Event != "dsync.user.updated" {
		t.Fatalf("reorg: %+v %v", r, names(evs))
	}
	prev := decode[userJSON](t, evs[0].Data).PreviousAttributes["custom_attributes"].(map[string]any)
	if _, ok := prev["department"]; !ok {
		t.Errorf("reorg previous_attributes = %v", prev)
	}

	mark = h.lastEventID()
	r = decode[result](t, h.control("POST", "/_sandbox/scenarios/leavers", `{"count":2}`, 200))
	evs = h.eventsSince(mark)
	if got := names(evs); !slices.Equal(got, []string{"dsync.user.updated", "dsync.user.updated"}) {
		t.Errorf("leavers: %v", got)
	}
	for _, id := range r.UserIDs {
		if u := decode[userJSON](t, h.get("/directory_users/"+id, 200)); u.State != "inactive" {
			t.Errorf("leaver %s is %s", id, u.State)
		}
	}
	mark = h.lastEventID()
	r = decode[result](t, h.control("POST", "/_sandbox/scenarios/leavers", `{"count":1,"mode":"delete"}`, 200))
	if got := names(h.eventsSince(mark)); got[len(got)-1] != "dsync.user.deleted" {
		t.Errorf("leavers delete: %v", got)
	}
	h.get("/directory_users/"+r.UserIDs[0], 404)
	h.control("POST", "/_sandbox/scenarios/layoffs", `{}`, 422)
	h.control("POST", "/_sandbox/scenarios/new-hires", `{"count":100000}`, 422)
}

func TestChurnOnce_EmitsEvents(t *testing.T) {
	h := newHarness(t, Options{})
	mark := h.lastEventID()
	for range 30 {
		h.sb.churnOnce()
	}
	if evs := h.eventsSince(mark); len(evs) < 20 {
		t.Errorf("30 churn steps emitted only %d events", len(evs))
	}
	h.control("PUT", "/_sandbox/churn", `{"per_minute":-1}`, 422)
	h.control("PUT", "/_sandbox/churn", `{"per_minute":0}`, 200)
}

func TestLegacyGroups(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		h := newHarness(t, Options{LegacyGroups: legacy})
		st := h.sb.State()
		m := st.Memberships[0]
		u := decode[userJSON](t, h.get("/directory_users/"+m.UserID, 200))
		if legacy != (len(u.Groups) > 0) {
			t.Errorf("legacy=%v: groups = %v", legacy, u.Groups)
		}
		raw := string(h.get("/directory_users/"+m.UserID, 200))
		if !legacy && !strings.Contains(raw, `"groups":[]`) {
			t.Errorf("groups key missing or not empty: %s", raw)
		}
	}
}

func TestDeterminism_SameSeedSameState(t *testing.T) {
	a := newHarness(t, Options{Preset: PresetDemo, Seed: 7})
	b := newHarness(t, Options{Preset: PresetDemo, Seed: 7})
	c := newHarness(t, Options{Preset: PresetDemo, Seed: 8})
	ja, jb, jc := a.sb.stateJSON(), b.sb.stateJSON(), c.sb.stateJSON()
	if string(ja) != string(jb) {
		t.Fatal("same seed gave different state")
	}
	if string(ja) == string(jc) {
		t.Fatal("another seed gave the same state")
	}
	// Ids do not depend on the day the sandbox starts.
	clock := newClock()
	clock.Advance(72 * 3600e9)
	d, err := New(Options{Preset: PresetDemo, Seed: 7, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if ids(d.State()) != ids(a.sb.State()) {
		t.Error("ids changed with the start day")
	}
}

func ids(st State) string {
	var b strings.Builder
	for _, u := range st.Users {
		b.WriteString(u.ID)
	}
	for _, g := range st.Groups {
		b.WriteString(g.ID)
	}
	for _, d := range st.Directories {
		b.WriteString(d.ID)
	}
	return b.String()
}

func TestDemoPreset_ShapeAndHostileData(t *testing.T) {
	h := newHarness(t, Options{Preset: PresetDemo})
	st := h.sb.State()
	if len(st.Organizations) < 2 || len(st.Directories) != 3 {
		t.Fatalf("%d orgs, %d directories", len(st.Organizations), len(st.Directories))
	}
	wantSize := map[string][2]int{typeOkta: {250, 20}, typeEntra: {1200, 40}, typeGoogle: {60, 8}}
	for _, d := range st.Directories {
		w := wantSize[d.Type]
		if got := d.Metadata.Users.Active + d.Metadata.Users.Inactive; got != w[0] || d.Metadata.Groups != w[1] || d.State != "linked" {
			t.Errorf("%s: %d users, %d groups, state %s", d.Type, got, d.Metadata.Groups, d.State)
		}
		if (d.Domain != "") != (d.Type == typeGoogle) {
			t.Errorf("%s: domain %q", d.Type, d.Domain)
		}
	}
	raw := string(h.sb.stateJSON())
	for _, s := range []string{"O'Brien", "山田", "Кузнецов", "حداد", "כהן", "🌈", "<script>alert(1)</script>", "freelance-mail.example", `"email":null`, `"state":"inactive"`, `"last_name":null`} {
		if !strings.Contains(raw, s) {
			t.Errorf("state lacks %q", s)
		}
	}
	long := false
	members := map[string]int{}
	for _, m := range st.Memberships {
		members[m.GroupID]++
	}
	empty := 0
	for _, g := range st.Groups {
		if members[g.ID] == 0 {
			empty++
		}
	}
	for _, u := range st.Users {
		if u.Name != nil && len([]rune(*u.Name)) > 100 {
			long = true
		}
		if u.JobTitle != nil || u.Username != nil || len(u.Emails) != 0 || len(u.RawAttributes) != 0 {
			t.Fatalf("deprecated fields filled on %s", u.ID)
		}
		for _, k := range []string{"department", "job_title", "employee_id", "location"} {
			if _, ok := u.CustomAttributes[k]; !ok {
				t.Fatalf("%s lacks custom attribute %s", u.ID, k)
			}
		}
	}
	if !long || empty == 0 {
		t.Errorf("long name %v, empty groups %d", long, empty)
	}
	managers := 0
	for _, u := range st.Users {
		if _, ok := u.CustomAttributes["manager_email"]; ok {
			managers++
		}
	}
	if managers < len(st.Users)*9/10 {
		t.Errorf("only %d of %d users have a manager", managers, len(st.Users))
	}
}

func TestPresets(t *testing.T) {
	h := newHarness(t, Options{Preset: PresetEmpty})
	st := h.sb.State()
	if len(st.Organizations) == 0 || len(st.Directories) != 0 || len(st.Users) != 0 {
		t.Errorf("empty preset: %d orgs, %d dirs, %d users", len(st.Organizations), len(st.Directories), len(st.Users))
	}
	h = newHarness(t, Options{Preset: PresetSmall})
	st = h.sb.State()
	if len(st.Directories) != 1 || len(st.Users) != 25 || len(st.Groups) != 4 {
		t.Errorf("small preset: %d dirs, %d users, %d groups", len(st.Directories), len(st.Users), len(st.Groups))
	}
	if _, err := New(Options{Preset: "huge"}); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestStateFile_RoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clock := newClock()
	a, err := New(Options{StatePath: path, Preset: PresetSmall, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	dir := a.State().Directories[0].ID
	u, err := a.opHire(dir, hireInput{FirstName: "Persisted", LastName: "Person"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.opUpdateUser(u.id, []userChange{{key: "job_title", val: "Keeper", custom: true}}); err != nil {
		t.Fatal(err)
	}
	wantState := a.stateJSON()
	a.mu.RLock()
	wantEvents := len(a.st.events)
	var wantEventJSON []byte
	for _, e := range a.st.events {
		var j jw
		writeEvent(&j, e, true)
		wantEventJSON = append(wantEventJSON, j.b...)
	}
	a.mu.RUnlock()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A different seed and preset: the file wins.
	b, err := New(Options{StatePath: path, Preset: PresetDemo, Seed: 99, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.stateJSON(); string(got) != string(wantState) {
		t.Fatal("state differs after reload")
	}
	b.mu.RLock()
	var gotEventJSON []byte
	for _, e := range b.st.events {
		var j jw
		writeEvent(&j, e, true)
		gotEventJSON = append(gotEventJSON, j.b...)
	}
	n := len(b.st.events)
	last := b.st.events[n-1].id
	b.mu.RUnlock()
	if n != wantEvents || string(gotEventJSON) != string(wantEventJSON) {
		t.Fatalf("events differ after reload (%d vs %d)", n, wantEvents)
	}
	// New ids after a reload sort after the old ones.
	if _, err := b.opHire(dir, hireInput{FirstName: "After"}); err != nil {
		t.Fatal(err)
	}
	b.mu.RLock()
	newest := b.st.events[len(b.st.events)-1].id
	b.mu.RUnlock()
	if newest <= last {
		t.Errorf("event id %s after reload does not sort after %s", newest, last)
	}
}
