package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/brianvoe/gofakeit/v7"

	"roster/views/sandboxui"
)

// Admin Portal: POST /portal/generate_link returns a single-use link that
// expires after five minutes. Opening it starts a portal session in which
// the customer's IT admin picks a provider and a starting size; finishing
// creates a directory (validating, then linked with dsync.activated) and a
// background push brings its groups, users and memberships over the next
// seconds, with their events.

const (
	portalLinkTTL    = 5 * time.Minute
	portalSessionTTL = time.Hour
)

type portalSession struct {
	token, sid            string
	orgID                 string
	returnURL, successURL string
	expires               int64 // link expiry (unix ms)
	opened                int64 // when the link was used (0 = not yet)

	step     string // provider, setup, syncing, done
	provider string
	dirID    string
	progress sandboxui.ProgressVM
}

type providerSpec struct {
	key, label, blurb, typ string
	demoUsers, demoGroups  int
	steps                  []string
}

var portalProviders = []providerSpec{
	{"okta", "Okta", "Okta Workforce Identity, provisioning over SCIM 2.0.", typeOkta, 250, 20, []string{
		"In the Okta Admin Console, open Applications and create a new app integration for this application (SCIM provisioning).",
		"On the Provisioning tab choose “Configure API Integration”, paste the SCIM base URL and the bearer token WorkOS shows here, and test the connection.",
		"Under “To App”, turn on Create Users, Update User Attributes and Deactivate Users.",
		"Assign the people who need access, and on Push Groups pick the groups to share.",
	}},
	{"entra", "Microsoft Entra ID", "Formerly Azure Active Directory, provisioning over SCIM 2.0.", typeEntra, 1200, 40, []string{
		"In the Microsoft Entra admin center, open Enterprise applications and create your own (non-gallery) application.",
		"Under Provisioning, set the mode to Automatic, paste the Tenant URL and Secret Token WorkOS shows here, and choose Test Connection.",
		"Keep the default attribute mappings; add department and manager if you want them sent.",
		"Assign users and groups to the application, then Start provisioning.",
	}},
	{"google", "Google Workspace", "Read-only access to your Google Workspace directory.", typeGoogle, 60, 8, []string{
		"Sign in with a Google Workspace super administrator account when asked.",
		"Allow read-only access to users and groups of your domain.",
		"Choose which groups to sync; everyone in them is shared.",
	}},
	{"generic", "Another SCIM 2.0 provider", "JumpCloud, OneLogin, Rippling or any SCIM 2.0 directory.", typeGeneric, 100, 10, []string{
		"In your identity provider, create a SCIM 2.0 application (sometimes called a provisioning connector).",
		"Paste the SCIM base URL and the bearer token WorkOS shows here.",
		"Enable user creation, updates and deactivation, then assign users and push groups.",
	}},
}

func providerByKey(k string) (providerSpec, bool) {
	for _, p := range portalProviders {
		if p.key == k {
			return p, true
		}
	}
	return providerSpec{}, false
}

func (p providerSpec) vm() sandboxui.ProviderVM {
	return sandboxui.ProviderVM{Key: p.key, Label: p.label, Blurb: p.blurb, Steps: p.steps}
}

// sizes returns the starting sizes offered for a provider.
func (p providerSpec) sizes() []sandboxui.SizeVM {
	return []sandboxui.SizeVM{
		{Key: "empty", Label: "Empty: connect now, add people later", Users: 0, Groups: 0},
		{Key: "small", Label: "Small team", Users: 25, Groups: 4, Checked: true},
		{Key: "demo", Label: "Whole company (" + p.label + " demo size)", Users: p.demoUsers, Groups: p.demoGroups},
	}
}

var portalIntents = []string{"sso", "dsync", "audit_logs", "log_streams", "domain_verification", "certificate_renewal", "bring_your_own_key"}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func validReturnURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

func (s *Sandbox) generatePortalLink(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Organization string `json:"organization"`
		Intent       string `json:"intent"`
		ReturnURL    string `json:"return_url"`
		SuccessURL   string `json:"success_url"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	switch {
	case b.Organization == "":
		writeError(w, invalid("organization", "organization is required"))
		return
	case b.Intent == "":
		writeError(w, invalid("intent", "intent is required"))
		return
	case !slices.Contains(portalIntents, b.Intent):
		writeError(w, invalid("intent", "intent must be one of "+strings.Join(portalIntents, ", ")))
		return
	case b.Intent != "dsync":
		writeError(w, invalid("intent", "the sandbox Admin Portal supports the dsync intent only"))
		return
	case b.ReturnURL != "" && !validReturnURL(b.ReturnURL):
		writeError(w, invalid("return_url", "return_url must be an absolute http(s) URL"))
		return
	case b.SuccessURL != "" && !validReturnURL(b.SuccessURL):
		writeError(w, invalid("success_url", "success_url must be an absolute http(s) URL"))
		return
	}
	base := s.apiBase(r)
	s.mu.Lock()
	s.prunePortal()
	if s.st.org(b.Organization) == nil {
		s.mu.Unlock()
		writeError(w, &notFoundError{"Organization", b.Organization})
		return
	}
	ps := &portalSession{token: randomHex(24), orgID: b.Organization, returnURL: b.ReturnURL, successURL: b.SuccessURL,
		expires: s.now() + portalLinkTTL.Milliseconds(), step: "provider"}
	s.portal[ps.token] = ps
	s.mu.Unlock()
	var j jw
	j.obj()
	j.kstr("link", base+"/_sandbox/portal/"+ps.token)
	j.endObj()
	writeJSONBytes(w, http.StatusCreated, j.b)
}

func (s *Sandbox) routePortal(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sandbox/portal/{token}", s.openPortalLink)
	mux.HandleFunc("GET /_sandbox/portal/s/{sid}", s.showPortal)
	mux.HandleFunc("POST /_sandbox/portal/s/{sid}/provider", s.portalChooseProvider)
	mux.HandleFunc("POST /_sandbox/portal/s/{sid}/finish", s.portalFinish)
}

func renderPage(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func portalError(w http.ResponseWriter, r *http.Request, status int, title, msg, returnURL string) {
	renderPage(w, r, status, sandboxui.PortalError(sandboxui.PortalErrorVM{Title: title, Message: msg, ReturnURL: returnURL}))
}

// openPortalLink consumes a link: the first visit before expiry starts a
// session; any later visit, or one after five minutes, gets a clear page.
func (s *Sandbox) openPortalLink(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	ps := s.portal[token]
	var sid string
	status, title, msg, ret := 0, "", "", ""
	switch {
	case ps == nil:
		status, title, msg = http.StatusNotFound, "This setup link is not valid", "The link is incomplete or was never issued."
	case ps.opened != 0:
		status, title, msg, ret = http.StatusGone, "This setup link was already used", "Each setup link works once.", ps.returnURL
	case s.now() > ps.expires:
		status, title, msg, ret = http.StatusGone, "This setup link has expired", "Setup links are valid for 5 minutes.", ps.returnURL
	default:
		ps.opened = s.now()
		ps.sid = randomHex(16)
		sid = ps.sid
		s.portal["s:"+sid] = ps
	}
	s.mu.Unlock()
	if status != 0 {
		portalError(w, r, status, title, msg, ret)
		return
	}
	http.Redirect(w, r, "/_sandbox/portal/s/"+sid, http.StatusSeeOther)
}

// session returns the live session for sid, or writes an error page.
func (s *Sandbox) session(w http.ResponseWriter, r *http.Request) *portalSession {
	s.mu.RLock()
	ps := s.portal["s:"+r.PathValue("sid")]
	expired := ps != nil && s.now() > ps.opened+portalSessionTTL.Milliseconds()
	s.mu.RUnlock()
	switch {
	case ps == nil:
		portalError(w, r, http.StatusNotFound, "This setup session does not exist", "Open the setup link you were given.", "")
		return nil
	case expired:
		portalError(w, r, http.StatusGone, "This setup session has expired", "Setup sessions last one hour.", ps.returnURL)
		return nil
	}
	return ps
}

func (s *Sandbox) portalVM(ps *portalSession) sandboxui.PortalVM {
	vm := sandboxui.PortalVM{Step: ps.step, Action: "/_sandbox/portal/s/" + ps.sid, ReturnURL: ps.returnURL, DirectoryID: ps.dirID, Progress: ps.progress}
	if o := s.st.org(ps.orgID); o != nil {
		vm.Organization = o.name
	}
	for _, p := range portalProviders {
		vm.Providers = append(vm.Providers, p.vm())
	}
	if p, ok := providerByKey(ps.provider); ok {
		vm.Provider = p.vm()
		vm.Sizes = p.sizes()
	}
	return vm
}

func (s *Sandbox) showPortal(w http.ResponseWriter, r *http.Request) {
	ps := s.session(w, r)
	if ps == nil {
		return
	}
	s.mu.RLock()
	vm := s.portalVM(ps)
	s.mu.RUnlock()
	if vm.Step == "done" && ps.successURL != "" {
		http.Redirect(w, r, ps.successURL, http.StatusSeeOther)
		return
	}
	renderPage(w, r, http.StatusOK, sandboxui.Portal(vm))
}

func (s *Sandbox) portalChooseProvider(w http.ResponseWriter, r *http.Request) {
	ps := s.session(w, r)
	if ps == nil {
		return
	}
	key := r.FormValue("provider")
	s.mu.Lock()
	if ps.step == "provider" || ps.step == "setup" {
		if _, ok := providerByKey(key); ok {
			ps.provider, ps.step = key, "setup"
		} else {
			ps.provider, ps.step = "", "provider"
		}
	}
	s.mu.Unlock()
	http.Redirect(w, r, "/_sandbox/portal/s/"+ps.sid, http.StatusSeeOther)
}

// portalFinish creates the directory (validating) and starts the push.
func (s *Sandbox) portalFinish(w http.ResponseWriter, r *http.Request) {
	ps := s.session(w, r)
	if ps == nil {
		return
	}
	s.mu.Lock()
	p, ok := providerByKey(ps.provider)
	o := s.st.org(ps.orgID)
	if ps.step != "setup" || !ok || o == nil {
		s.mu.Unlock()
		http.Redirect(w, r, "/_sandbox/portal/s/"+ps.sid, http.StatusSeeOther)
		return
	}
	users, groups := 25, 4
	switch r.FormValue("size") {
	case "empty":
		users, groups = 0, 0
	case "demo":
		users, groups = p.demoUsers, p.demoGroups
	}
	domain := "example.com"
	if len(o.domains) > 0 {
		domain = o.domains[0].domain
	}
	dp := dirPlan{typ: p.typ, name: o.name + " " + p.label, emailDomain: domain, users: users, groups: groups}
	if p.typ == typeGoogle {
		dp.domain = domain
	}
	d := s.addDirectory(s.live(), o, dp.typ, dp.name, dp.domain, "validating")
	sd := &seeder{s: s, f: gofakeit.New(s.fake.Uint64())}
	plan := sd.planUsers(dp)
	names, members := sd.planGroups(dp, plan)
	total := 0
	for _, m := range members {
		total += len(m)
	}
	ps.dirID, ps.step = d.id, "syncing"
	ps.progress = sandboxui.ProgressVM{State: "validating", GroupsTotal: len(names), UsersTotal: len(plan), MembershipsTotal: total}
	s.mu.Unlock()
	s.start(func() { s.portalPush(s.ctx, ps, d, sd, plan, names, members) })
	http.Redirect(w, r, "/_sandbox/portal/s/"+ps.sid, http.StatusSeeOther)
}

// portalTick is the pause between push batches.
func (s *Sandbox) portalTick() time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pushTick
}

// portalPush plays the provider's first sync: activation, then groups,
// users and memberships in batches a few hundred milliseconds apart.
func (s *Sandbox) portalPush(ctx context.Context, ps *portalSession, d *directory, sd *seeder, plan []plannedUser, names []string, members [][]int) {
	// pause waits one tick, re-reading the tick as it goes so that a
	// change applies at once.
	pause := func() bool {
		start := time.Now()
		for {
			left := s.portalTick() - time.Since(start)
			if left <= 0 {
				return true
			}
			t := time.NewTimer(min(left, 20*time.Millisecond))
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
	}
	// batch runs f under the lock unless the directory was deleted meanwhile.
	batch := func(f func()) bool {
		if !pause() {
			return false
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.st.dir(d.id) == nil {
			ps.step = "done"
			return false
		}
		f()
		return true
	}
	if !batch(func() {
		d = s.activateDirectory(s.live(), s.st.dir(d.id))
		ps.progress.State = "linked"
	}) {
		return
	}
	var groups []*group
	for i := 0; i < len(names); i += 10 {
		if !batch(func() {
			for _, n := range names[i:min(i+10, len(names))] {
				groups = append(groups, s.addGroup(s.live(), d, n, sd.groupIdpID(d.typ)))
			}
			ps.progress.GroupsDone = len(groups)
		}) {
			return
		}
	}
	for i := 0; i < len(plan); i += 50 {
		if !batch(func() {
			for _, pu := range plan[i:min(i+50, len(plan))] {
				s.addUser(s.live(), d, pu.u)
			}
			ps.progress.UsersDone = min(i+50, len(plan))
		}) {
			return
		}
	}
	type pair struct{ g, u int }
	var pairs []pair
	for gi, m := range members {
		for _, ui := range m {
			pairs = append(pairs, pair{gi, ui})
		}
	}
	for i := 0; i < len(pairs); i += 200 {
		if !batch(func() {
			for _, p := range pairs[i:min(i+200, len(pairs))] {
				if u := s.st.users[plan[p.u].u.id]; u != nil && s.st.groups[groups[p.g].id] != nil {
					_, _ = s.addMember(s.live(), groups[p.g], u)
				}
			}
			ps.progress.MembershipsDone = min(i+200, len(pairs))
		}) {
			return
		}
	}
	s.mu.Lock()
	ps.step = "done"
	s.mu.Unlock()
}

// prunePortal forgets links and sessions past any use; s.mu held.
func (s *Sandbox) prunePortal() {
	now := s.now()
	for k, ps := range s.portal {
		if now > ps.expires+portalSessionTTL.Milliseconds() && (ps.opened == 0 || now > ps.opened+portalSessionTTL.Milliseconds()) {
			delete(s.portal, k)
		}
	}
}
