package sandbox

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"roster/views/sandboxui"
)

// The /_sandbox/ page: plain HTML forms that POST to /_sandbox/ui/… and
// redirect back (303) with a message, so it works without JavaScript. The
// sandbox is a loopback emulator, hence no login and no CSRF token.

const uiSample = 15 // users and groups shown per directory

func (s *Sandbox) routeUI(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sandbox/{$}", s.showHome)
	mux.HandleFunc("GET /_sandbox", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/_sandbox/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("POST /_sandbox/ui/directories/{id}/users", s.uiHire)
	mux.HandleFunc("POST /_sandbox/ui/directories/{id}/scenarios", s.uiScenario)
	mux.HandleFunc("POST /_sandbox/ui/directories/{id}/groups", s.uiCreateGroup)
	mux.HandleFunc("POST /_sandbox/ui/directories/{id}/delete", s.uiDeleteDirectory)
	mux.HandleFunc("POST /_sandbox/ui/users/{id}/update", s.uiUpdateUser)
	mux.HandleFunc("POST /_sandbox/ui/users/{id}/state", s.uiUserState)
	mux.HandleFunc("POST /_sandbox/ui/users/{id}/delete", s.uiDeleteUser)
	mux.HandleFunc("POST /_sandbox/ui/groups/{id}/rename", s.uiRenameGroup)
	mux.HandleFunc("POST /_sandbox/ui/groups/{id}/members", s.uiMember)
	mux.HandleFunc("POST /_sandbox/ui/groups/{id}/delete", s.uiDeleteGroup)
	mux.HandleFunc("POST /_sandbox/ui/churn", s.uiChurn)
	mux.HandleFunc("POST /_sandbox/ui/faults", s.uiFaults)
	mux.HandleFunc("POST /_sandbox/ui/webhooks", s.uiWebhooks)
	mux.HandleFunc("POST /_sandbox/ui/orgs/{id}/portal", s.uiPortal)
	s.routePortal(mux)
}

func (s *Sandbox) apiBase(r *http.Request) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.opts.PublicURL != "":
		return strings.TrimRight(s.opts.PublicURL, "/")
	case s.publicURL != "":
		return s.publicURL
	}
	return "http://" + r.Host
}

func (s *Sandbox) homeVM(r *http.Request) sandboxui.HomeVM {
	vm := sandboxui.HomeVM{APIBase: s.apiBase(r)}
	q := r.URL.Query()
	if m := q.Get("msg"); m != "" {
		vm.Flash = m
	} else if m := q.Get("err"); m != "" {
		vm.Flash, vm.FlashIsError = m, true
	}
	fs := s.faultSettings()
	vm.Faults = sandboxui.FaultsVM{RateLimit: fs.RateLimit, LatencyMS: fs.LatencyMS,
		ErrorRate: strconv.FormatFloat(fs.ErrorRate, 'f', -1, 64), DropRate: strconv.FormatFloat(fs.DropRate, 'f', -1, 64)}
	hs := s.hooks.status()
	vm.Webhook = sandboxui.WebhookVM{URL: hs.URL, HasSecret: hs.HasSecret, Pending: hs.Pending, Delivered: hs.Delivered, Dropped: hs.Dropped, LastError: hs.LastError}
	vm.ChurnPerMinute = s.churn.rate()

	s.mu.RLock()
	defer s.mu.RUnlock()
	vm.EventCount = len(s.st.events)
	for _, o := range s.st.orgs {
		ov := sandboxui.OrganizationVM{ID: o.id, Name: o.name}
		for _, d := range o.domains {
			ov.Domains = append(ov.Domains, d.domain)
		}
		vm.Organizations = append(vm.Organizations, ov)
	}
	for _, d := range s.st.dirs {
		dv := sandboxui.DirectoryVM{ID: d.id, Name: d.name, Type: d.typ, State: d.state, Domain: d.domain}
		if o := s.st.org(d.orgID); o != nil {
			dv.Organization = o.name
		}
		dv.ActiveUsers, dv.InactiveUsers, dv.GroupCount = s.st.dirCounts(d.id)
		dd := s.st.data[d.id]
		for i := len(dd.users) - 1; i >= 0 && len(dv.Users) < uiSample; i-- {
			u := dd.users[i]
			title, _ := u.attr("job_title")
			dept, _ := u.attr("department")
			dv.Users = append(dv.Users, sandboxui.UserVM{ID: u.id, Name: u.name(), Email: u.email, JobTitle: title, Department: dept, Active: u.state == "active"})
		}
		dv.MoreUsers = len(dd.users) - len(dv.Users)
		for _, g := range dd.groups {
			if len(dv.Groups) == uiSample*3 {
				break
			}
			dv.Groups = append(dv.Groups, sandboxui.GroupVM{ID: g.id, Name: g.name, Members: len(dd.members[g.id])})
		}
		dv.MoreGroups = len(dd.groups) - len(dv.Groups)
		vm.Directories = append(vm.Directories, dv)
	}
	return vm
}

func (s *Sandbox) showHome(w http.ResponseWriter, r *http.Request) {
	renderPage(w, r, http.StatusOK, sandboxui.Home(s.homeVM(r)))
}

// back redirects to the control page with a message (or the error).
func back(w http.ResponseWriter, r *http.Request, anchor, msg string, err error) {
	q := url.Values{}
	if err != nil {
		var nf *notFoundError
		var ve *validationError
		switch {
		case errors.As(err, &nf):
			q.Set("err", nf.Error())
		case errors.As(err, &ve):
			q.Set("err", ve.Error())
		default:
			q.Set("err", err.Error())
		}
	} else {
		q.Set("msg", msg)
	}
	target := "/_sandbox/?" + q.Encode()
	if anchor != "" {
		target += "#" + anchor
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Sandbox) dirOfUser(id string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u := s.st.users[id]; u != nil {
		return u.dirID
	}
	return ""
}

func (s *Sandbox) dirOfGroup(id string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if g := s.st.groups[id]; g != nil {
		return g.dirID
	}
	return ""
}

func (s *Sandbox) uiHire(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in := hireInput{FirstName: r.FormValue("first_name"), LastName: r.FormValue("last_name"), Custom: map[string]string{}}
	if e := strings.TrimSpace(r.FormValue("email")); e != "" {
		in.Email = &e
	}
	for _, k := range []string{"job_title", "department"} {
		if v := strings.TrimSpace(r.FormValue(k)); v != "" {
			in.Custom[k] = v
		}
	}
	if g := r.FormValue("group_id"); g != "" {
		in.GroupIDs = []string{g}
	}
	u, err := s.opHire(id, in)
	msg := ""
	if err == nil {
		msg = "Hired " + u.name() + " (" + u.id + ")."
	}
	back(w, r, id, msg, err)
}

func (s *Sandbox) uiScenario(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	name, mode := r.FormValue("name"), ""
	if name == "leavers-delete" {
		name, mode = "leavers", "delete"
	}
	count, _ := strconv.Atoi(r.FormValue("count"))
	res, err := s.opScenario(name, id, count, mode)
	msg := ""
	if err == nil {
		msg = "Scenario " + name + ": " + strconv.Itoa(len(res.userIDs)) + " people, " + strconv.Itoa(res.events) + " events."
	}
	back(w, r, id, msg, err)
}

func (s *Sandbox) uiCreateGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	g, err := s.opCreateGroup(id, r.FormValue("name"))
	msg := ""
	if err == nil {
		msg = "Created group " + g.name + "."
	}
	back(w, r, id, msg, err)
}

func (s *Sandbox) uiDeleteDirectory(w http.ResponseWriter, r *http.Request) {
	err := s.opDeleteDirectory(r.PathValue("id"))
	back(w, r, "", "Directory deleted.", err)
}

func (s *Sandbox) uiUpdateUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	dir := s.dirOfUser(id)
	_, err := s.opUpdateUser(id, []userChange{{key: "job_title", val: strings.TrimSpace(r.FormValue("job_title")), custom: true, null: strings.TrimSpace(r.FormValue("job_title")) == ""}})
	back(w, r, dir, "User updated.", err)
}

func (s *Sandbox) uiUserState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	dir := s.dirOfUser(id)
	_, err := s.opUpdateUser(id, []userChange{{key: "state", val: r.FormValue("state")}})
	back(w, r, dir, "User is now "+r.FormValue("state")+".", err)
}

func (s *Sandbox) uiDeleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	dir := s.dirOfUser(id)
	back(w, r, dir, "User deleted.", s.opDeleteUser(id))
}

func (s *Sandbox) uiRenameGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := s.opRenameGroup(id, r.FormValue("name"))
	back(w, r, s.dirOfGroup(id), "Group renamed.", err)
}

func (s *Sandbox) uiMember(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	add := r.FormValue("op") != "remove"
	err := s.opMember(id, strings.TrimSpace(r.FormValue("user_id")), add)
	msg := "Member removed."
	if add {
		msg = "Member added."
	}
	back(w, r, s.dirOfGroup(id), msg, err)
}

func (s *Sandbox) uiDeleteGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	dir := s.dirOfGroup(id)
	back(w, r, dir, "Group deleted.", s.opDeleteGroup(id))
}

func (s *Sandbox) uiChurn(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.FormValue("per_minute"))
	if err != nil || n < 0 || n > 6000 {
		back(w, r, "settings-h", "", invalid("per_minute", "per_minute must be between 0 and 6000"))
		return
	}
	s.churn.set(n)
	back(w, r, "settings-h", "Churn set to "+strconv.Itoa(n)+" per minute.", nil)
}

func (s *Sandbox) uiFaults(w http.ResponseWriter, r *http.Request) {
	f := FaultSettings{RateLimit: r.FormValue("rate_limit") != ""}
	var err error
	if v := r.FormValue("latency_ms"); v != "" {
		if f.LatencyMS, err = strconv.Atoi(v); err != nil {
			err = invalid("latency_ms", "not a number")
		}
	}
	if v := r.FormValue("error_rate"); v != "" && err == nil {
		if f.ErrorRate, err = strconv.ParseFloat(v, 64); err != nil {
			err = invalid("error_rate", "not a number")
		}
	}
	if v := r.FormValue("drop_rate"); v != "" && err == nil {
		if f.DropRate, err = strconv.ParseFloat(v, 64); err != nil {
			err = invalid("drop_rate", "not a number")
		}
	}
	if err == nil {
		err = s.setFaults(f)
	}
	back(w, r, "settings-h", "Faults updated.", err)
}

func (s *Sandbox) uiWebhooks(w http.ResponseWriter, r *http.Request) {
	u := strings.TrimSpace(r.FormValue("url"))
	if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		back(w, r, "settings-h", "", invalid("url", "url must start with http:// or https://"))
		return
	}
	secret := r.FormValue("secret")
	if secret == "" {
		secret = s.hooks.currentSecret()
	}
	s.hooks.configure(u, secret)
	back(w, r, "settings-h", "Webhook endpoint updated.", nil)
}

// uiPortal opens the Admin Portal for an organisation, as an application
// would after calling /portal/generate_link; it comes back here when done.
func (s *Sandbox) uiPortal(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	base := s.apiBase(r)
	s.mu.Lock()
	if s.st.org(id) == nil {
		s.mu.Unlock()
		back(w, r, "", "", &notFoundError{"Organization", id})
		return
	}
	ps := &portalSession{token: randomHex(24), orgID: id, expires: s.now() + portalLinkTTL.Milliseconds(), step: "provider",
		returnURL: base + "/_sandbox/"}
	s.portal[ps.token] = ps
	s.mu.Unlock()
	http.Redirect(w, r, "/_sandbox/portal/"+ps.token, http.StatusSeeOther)
}
