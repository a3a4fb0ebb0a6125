package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Operations of the change simulator. Each takes the lock, validates all
// input before changing anything, and emits the events WorkOS would.

// hireInput describes a new user. Email: nil derives one from the name and
// the organisation's domain; a pointer to "" means no email (null).
type hireInput struct {
	FirstName, LastName string
	Email               *string
	Custom              map[string]string // job_title, department, manager_email, …
	GroupIDs            []string
}

func (s *Sandbox) opHire(dirID string, in hireInput) (*user, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.dir(dirID)
	if d == nil {
		return nil, &notFoundError{"Directory", dirID}
	}
	return s.hire(s.live(), d, in)
}

// hire does the work of opHire; s.mu must be held.
func (s *Sandbox) hire(c clk, d *directory, in hireInput) (*user, error) {
	in.FirstName, in.LastName = strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if in.FirstName == "" && in.LastName == "" {
		return nil, invalid("first_name", "first_name or last_name is required")
	}
	var groups []*group
	for _, gid := range in.GroupIDs {
		g := s.st.groups[gid]
		if g == nil || g.dirID != d.id {
			return nil, invalid("group_ids", "unknown group in this directory: "+gid)
		}
		groups = append(groups, g)
	}
	u := &user{idpID: s.newIdpID(d.typ), state: "active", role: "member"}
	u.first, u.last = in.FirstName, in.LastName
	switch {
	case in.Email == nil:
		u.email = s.freeEmail(d, asciiLocal(in.FirstName, in.LastName))
	case strings.TrimSpace(*in.Email) == "":
		u.noEmail = true
	default:
		u.email = strings.TrimSpace(*in.Email)
	}
	for k, v := range in.Custom {
		if v == "" {
			continue
		}
		if !validAttrKey(k) {
			return nil, invalid(k, "attribute names are letters, digits and underscores")
		}
		u.custom = append(u.custom, attr{k, v})
	}
	if _, ok := in.Custom["employee_id"]; !ok {
		u.custom = append(u.custom, attr{"employee_id", "E" + s.fake.Numerify("9#####")})
	}
	sortAttrs(u.custom)
	s.addUser(c, d, u)
	for _, g := range groups {
		_, _ = s.addMember(c, g, u)
	}
	return u, nil
}

// freeEmail returns local@domain (org's first domain) not used yet in d.
func (s *Sandbox) freeEmail(d *directory, local string) string {
	domain := "example.com"
	if o := s.st.org(d.orgID); o != nil && len(o.domains) > 0 {
		domain = o.domains[0].domain
	}
	if d.domain != "" {
		domain = d.domain
	}
	if local == "" {
		local = "new.hire"
	}
	used := map[string]bool{}
	for _, u := range s.st.data[d.id].users {
		used[strings.ToLower(u.email)] = true
	}
	e := local + "@" + domain
	for i := 2; used[e]; i++ {
		e = local + strconv.Itoa(i) + "@" + domain
	}
	return e
}

var attrKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// validAttrKey keeps custom attribute keys to identifiers. That also keeps
// JavaScript from reordering integer-like keys when the Node SDK
// re-serialises a webhook body to verify it.
func validAttrKey(k string) bool { return attrKeyRE.MatchString(k) }

func (s *Sandbox) newIdpID(typ string) string {
	sd := &seeder{s: s, f: s.fake}
	return sd.userIdpID(typ)
}

func (s *Sandbox) opUpdateUser(id string, changes []userChange) (*user, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.users[id]
	if u == nil {
		return nil, &notFoundError{"Directory User", id}
	}
	for _, ch := range changes {
		if ch.custom && !validAttrKey(ch.key) {
			return nil, invalid(ch.key, "attribute names are letters, digits and underscores")
		}
	}
	return s.updateUser(s.live(), u, changes)
}

func (s *Sandbox) opDeleteUser(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.users[id]
	if u == nil {
		return &notFoundError{"Directory User", id}
	}
	s.deleteUser(s.live(), u)
	return nil
}

func (s *Sandbox) opMember(gid, uid string, add bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groups[gid]
	if g == nil {
		return &notFoundError{"Directory Group", gid}
	}
	u := s.st.users[uid]
	if u == nil {
		return &notFoundError{"Directory User", uid}
	}
	if add {
		_, err := s.addMember(s.live(), g, u)
		return err
	}
	s.removeMember(s.live(), g, u)
	return nil
}

func (s *Sandbox) opCreateGroup(dirID, name string) (*group, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, invalid("name", "name is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.dir(dirID)
	if d == nil {
		return nil, &notFoundError{"Directory", dirID}
	}
	sd := &seeder{s: s, f: s.fake}
	return s.addGroup(s.live(), d, name, sd.groupIdpID(d.typ)), nil
}

func (s *Sandbox) opRenameGroup(gid, name string) (*group, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, invalid("name", "name is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groups[gid]
	if g == nil {
		return nil, &notFoundError{"Directory Group", gid}
	}
	return s.renameGroup(s.live(), g, name), nil
}

func (s *Sandbox) opDeleteGroup(gid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groups[gid]
	if g == nil {
		return &notFoundError{"Directory Group", gid}
	}
	s.deleteGroup(s.live(), g)
	return nil
}

func (s *Sandbox) opDeleteDirectory(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.st.dir(id)
	if d == nil {
		return &notFoundError{"Directory", id}
	}
	s.deleteDirectory(s.live(), d)
	return nil
}

// FaultSettings are the fault-injection knobs of PUT /_sandbox/faults.
type FaultSettings struct {
	RateLimit bool    `json:"rate_limit"`
	LatencyMS int     `json:"latency_ms"`
	ErrorRate float64 `json:"error_rate"`
	DropRate  float64 `json:"drop_rate"`
}

func (s *Sandbox) setFaults(f FaultSettings) error {
	if f.LatencyMS < 0 || f.LatencyMS > 60_000 {
		return invalid("latency_ms", "latency_ms must be between 0 and 60000")
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		return invalid("error_rate", "error_rate must be between 0 and 1")
	}
	if f.DropRate < 0 || f.DropRate > 1 {
		return invalid("drop_rate", "drop_rate must be between 0 and 1")
	}
	s.mu.Lock()
	s.faults = faults{rateLimit: f.RateLimit, latency: time.Duration(f.LatencyMS) * time.Millisecond, errorRate: f.ErrorRate, dropRate: f.DropRate}
	s.mu.Unlock()
	return nil
}

func (s *Sandbox) faultSettings() FaultSettings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return FaultSettings{RateLimit: s.faults.rateLimit, LatencyMS: int(s.faults.latency / time.Millisecond), ErrorRate: s.faults.errorRate, DropRate: s.faults.dropRate}
}

// JSON control endpoints.

func (s *Sandbox) routeControl(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sandbox/state", s.handleState)
	mux.HandleFunc("POST /_sandbox/directories/{id}/users", s.handleHire)
	mux.HandleFunc("PATCH /_sandbox/users/{id}", s.handleUpdateUser)
	mux.HandleFunc("POST /_sandbox/users/{id}/deactivate", s.handleSetState("inactive"))
	mux.HandleFunc("POST /_sandbox/users/{id}/reactivate", s.handleSetState("active"))
	mux.HandleFunc("DELETE /_sandbox/users/{id}", s.handleDeleteUser)
	mux.HandleFunc("POST /_sandbox/groups/{id}/members", s.handleAddMember)
	mux.HandleFunc("DELETE /_sandbox/groups/{id}/members/{user_id}", s.handleRemoveMember)
	mux.HandleFunc("POST /_sandbox/directories/{id}/groups", s.handleCreateGroup)
	mux.HandleFunc("PATCH /_sandbox/groups/{id}", s.handleRenameGroup)
	mux.HandleFunc("DELETE /_sandbox/groups/{id}", s.handleDeleteGroup)
	mux.HandleFunc("DELETE /_sandbox/directories/{id}", s.handleDeleteDirectory)
	mux.HandleFunc("POST /_sandbox/scenarios/{name}", s.handleScenario)
	mux.HandleFunc("PUT /_sandbox/churn", s.handleChurn)
	mux.HandleFunc("PUT /_sandbox/faults", s.handleFaults)
	mux.HandleFunc("GET /_sandbox/faults", s.handleGetFaults)
	mux.HandleFunc("PUT /_sandbox/webhooks", s.handleWebhooks)
}

// decodeBody reads a JSON object; an empty body decodes as {}.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return invalid("body", "could not read the request body")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalid("body", "invalid JSON: "+err.Error())
	}
	return nil
}

func (s *Sandbox) writeUserJSON(w http.ResponseWriter, status int, u *user) {
	var j jw
	s.mu.RLock()
	s.st.writeUserREST(&j, u, s.legacy)
	s.mu.RUnlock()
	writeJSONBytes(w, status, j.b)
}

func writeGroupJSON(w http.ResponseWriter, status int, g *group) {
	var j jw
	writeGroup(&j, g)
	writeJSONBytes(w, status, j.b)
}

func writeOK(w http.ResponseWriter, kv ...string) {
	var j jw
	j.obj()
	for i := 0; i+1 < len(kv); i += 2 {
		j.kstr(kv[i], kv[i+1])
	}
	j.endObj()
	writeJSONBytes(w, http.StatusOK, j.b)
}

func (s *Sandbox) handleState(w http.ResponseWriter, r *http.Request) {
	writeJSONBytes(w, http.StatusOK, s.stateJSON())
}

// hireBody is the JSON of POST /_sandbox/directories/{id}/users.
type hireBody struct {
	FirstName        string            `json:"first_name"`
	LastName         string            `json:"last_name"`
	Email            json.RawMessage   `json:"email"`
	JobTitle         string            `json:"job_title"`
	Department       string            `json:"department"`
	ManagerEmail     string            `json:"manager_email"`
	Location         string            `json:"location"`
	EmployeeID       string            `json:"employee_id"`
	CustomAttributes map[string]string `json:"custom_attributes"`
	GroupIDs         []string          `json:"group_ids"`
}

func (b hireBody) input() (hireInput, error) {
	in := hireInput{FirstName: b.FirstName, LastName: b.LastName, GroupIDs: b.GroupIDs, Custom: map[string]string{}}
	for k, v := range b.CustomAttributes {
		in.Custom[k] = v
	}
	for k, v := range map[string]string{"job_title": b.JobTitle, "department": b.Department, "manager_email": b.ManagerEmail, "location": b.Location, "employee_id": b.EmployeeID} {
		if v != "" {
			in.Custom[k] = v
		}
	}
	if len(b.Email) > 0 {
		var e *string
		if err := json.Unmarshal(b.Email, &e); err != nil {
			return in, invalid("email", "email must be a string or null")
		}
		if e == nil {
			e = new(string)
		}
		in.Email = e
	}
	return in, nil
}

func (s *Sandbox) handleHire(w http.ResponseWriter, r *http.Request) {
	var b hireBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	in, err := b.input()
	if err != nil {
		writeError(w, err)
		return
	}
	u, err := s.opHire(r.PathValue("id"), in)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeUserJSON(w, http.StatusCreated, u)
}

// parseChanges turns a PATCH body into changes: first_name, last_name,
// email, role and state are top-level fields; every other key (or a key
// inside "custom_attributes") is a custom attribute. null removes.
func parseChanges(body map[string]json.RawMessage) ([]userChange, error) {
	var changes []userChange
	add := func(k string, raw json.RawMessage, custom bool) error {
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return invalid(k, "value must be a string or null")
		}
		ch := userChange{key: k, custom: custom, null: v == nil}
		if v != nil {
			ch.val = *v
		}
		changes = append(changes, ch)
		return nil
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		raw := body[k]
		switch k {
		case "first_name", "last_name", "email", "role", "state":
			if err := add(k, raw, false); err != nil {
				return nil, err
			}
		case "custom_attributes":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, invalid(k, "custom_attributes must be an object")
			}
			ck := make([]string, 0, len(m))
			for c := range m {
				ck = append(ck, c)
			}
			slices.Sort(ck)
			for _, c := range ck {
				if err := add(c, m[c], true); err != nil {
					return nil, err
				}
			}
		default:
			if err := add(k, raw, true); err != nil {
				return nil, err
			}
		}
	}
	return changes, nil
}

func (s *Sandbox) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if err := decodeBody(r, &body); err != nil {
		writeError(w, err)
		return
	}
	changes, err := parseChanges(body)
	if err != nil {
		writeError(w, err)
		return
	}
	u, err := s.opUpdateUser(r.PathValue("id"), changes)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeUserJSON(w, http.StatusOK, u)
}

func (s *Sandbox) handleSetState(state string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := s.opUpdateUser(r.PathValue("id"), []userChange{{key: "state", val: state}})
		if err != nil {
			writeError(w, err)
			return
		}
		s.writeUserJSON(w, http.StatusOK, u)
	}
}

func (s *Sandbox) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opDeleteUser(id); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, "id", id, "status", "deleted")
}

func (s *Sandbox) handleAddMember(w http.ResponseWriter, r *http.Request) {
	var b struct {
		UserID string `json:"user_id"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	if b.UserID == "" {
		writeError(w, invalid("user_id", "user_id is required"))
		return
	}
	gid := r.PathValue("id")
	if err := s.opMember(gid, b.UserID, true); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, "group_id", gid, "user_id", b.UserID)
}

func (s *Sandbox) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	gid, uid := r.PathValue("id"), r.PathValue("user_id")
	if err := s.opMember(gid, uid, false); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, "group_id", gid, "user_id", uid)
}

type nameBody struct {
	Name string `json:"name"`
}

func (s *Sandbox) handleCreateGroup(w http.ResponseWriter, r *http.Request) {
	var b nameBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	g, err := s.opCreateGroup(r.PathValue("id"), b.Name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeGroupJSON(w, http.StatusCreated, g)
}

func (s *Sandbox) handleRenameGroup(w http.ResponseWriter, r *http.Request) {
	var b nameBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	g, err := s.opRenameGroup(r.PathValue("id"), b.Name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeGroupJSON(w, http.StatusOK, g)
}

func (s *Sandbox) handleDeleteGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opDeleteGroup(id); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, "id", id, "status", "deleted")
}

func (s *Sandbox) handleDeleteDirectory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opDeleteDirectory(id); err != nil {
		writeError(w, err)
		return
	}
	writeOK(w, "id", id, "status", "deleted")
}

func (s *Sandbox) handleScenario(w http.ResponseWriter, r *http.Request) {
	var b struct {
		DirectoryID string `json:"directory_id"`
		Count       int    `json:"count"`
		Mode        string `json:"mode"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	res, err := s.opScenario(r.PathValue("name"), b.DirectoryID, b.Count, b.Mode)
	if err != nil {
		writeError(w, err)
		return
	}
	var j jw
	j.obj()
	j.kstr("scenario", res.name)
	j.kstr("directory_id", res.dirID)
	j.karr("user_ids")
	for _, id := range res.userIDs {
		j.str(id)
	}
	j.endArr()
	j.kint("events", int64(res.events))
	j.endObj()
	writeJSONBytes(w, http.StatusOK, j.b)
}

func (s *Sandbox) handleChurn(w http.ResponseWriter, r *http.Request) {
	var b struct {
		PerMinute int `json:"per_minute"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	if b.PerMinute < 0 || b.PerMinute > 6000 {
		writeError(w, invalid("per_minute", "per_minute must be between 0 and 6000"))
		return
	}
	s.churn.set(b.PerMinute)
	var j jw
	j.obj()
	j.kint("per_minute", int64(b.PerMinute))
	j.endObj()
	writeJSONBytes(w, http.StatusOK, j.b)
}

func writeFaults(w http.ResponseWriter, f FaultSettings) {
	b, _ := json.Marshal(f)
	writeJSONBytes(w, http.StatusOK, b)
}

func (s *Sandbox) handleFaults(w http.ResponseWriter, r *http.Request) {
	f := s.faultSettings()
	if err := decodeBody(r, &f); err != nil {
		writeError(w, err)
		return
	}
	if err := s.setFaults(f); err != nil {
		writeError(w, err)
		return
	}
	writeFaults(w, s.faultSettings())
}

func (s *Sandbox) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	writeFaults(w, s.faultSettings())
}

func (s *Sandbox) handleWebhooks(w http.ResponseWriter, r *http.Request) {
	var b struct {
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	if b.URL != "" && !strings.HasPrefix(b.URL, "http://") && !strings.HasPrefix(b.URL, "https://") {
		writeError(w, invalid("url", "url must start with http:// or https://"))
		return
	}
	s.hooks.configure(b.URL, b.Secret)
	st := s.hooks.status()
	var j jw
	j.obj()
	j.kstrOrNull("url", st.URL, st.URL != "")
	j.kbool("has_secret", st.HasSecret)
	j.endObj()
	writeJSONBytes(w, http.StatusOK, j.b)
}
