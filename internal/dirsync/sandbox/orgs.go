package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Organizations API: list (search, domains), get, get by external id,
// create and update, with organization.created/updated events.

func (s *Sandbox) routeOrgAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /organizations", s.api(s.listOrgs))
	mux.HandleFunc("POST /organizations", s.api(s.createOrg))
	mux.HandleFunc("GET /organizations/{id}", s.api(s.getOrg))
	mux.HandleFunc("PUT /organizations/{id}", s.api(s.updateOrg))
	mux.HandleFunc("GET /organizations/external_id/{external_id}", s.api(s.getOrgByExternalID))
	mux.HandleFunc("POST /portal/generate_link", s.api(s.generatePortalLink))
}

func writeCodeMessage(w http.ResponseWriter, status int, code, msg string) {
	var j jw
	j.obj()
	j.kstr("code", code)
	j.kstr("message", msg)
	j.endObj()
	writeJSONBytes(w, status, j.b)
}

func (s *Sandbox) listOrgs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		writeError(w, err)
		return
	}
	var domains []string
	for _, key := range []string{"domains", "domains[]"} {
		for _, v := range q[key] {
			for _, d := range strings.Split(v, ",") {
				if d = strings.TrimSpace(strings.ToLower(d)); d != "" {
					domains = append(domains, d)
				}
			}
		}
	}
	search := strings.ToLower(q.Get("search"))
	s.mu.RLock()
	defer s.mu.RUnlock()
	var orgs []*org
	for _, o := range s.st.orgs {
		if search != "" && !strings.Contains(strings.ToLower(o.name), search) {
			continue
		}
		if len(domains) > 0 && !orgHasAnyDomain(o, domains) {
			continue
		}
		orgs = append(orgs, o)
	}
	writeList(w, paginate(orgs, orgIDOf, p), writeOrg)
}

func orgHasAnyDomain(o *org, domains []string) bool {
	for _, od := range o.domains {
		for _, d := range domains {
			if strings.EqualFold(od.domain, d) {
				return true
			}
		}
	}
	return false
}

func (s *Sandbox) getOrg(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.st.org(id)
	if o == nil {
		writeError(w, &notFoundError{"Organization", id})
		return
	}
	var j jw
	writeOrg(&j, o)
	writeJSONBytes(w, http.StatusOK, j.b)
}

func (s *Sandbox) getOrgByExternalID(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("external_id")
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, o := range s.st.orgs {
		if o.externalID != "" && o.externalID == ext {
			var j jw
			writeOrg(&j, o)
			writeJSONBytes(w, http.StatusOK, j.b)
			return
		}
	}
	writeError(w, &notFoundError{"Organization", ext})
}

// orgBody is the JSON of POST /organizations and PUT /organizations/{id}.
// Pointers tell absent fields from present ones.
type orgBody struct {
	Name       *string `json:"name"`
	DomainData *[]struct {
		Domain string `json:"domain"`
		State  string `json:"state"`
	} `json:"domain_data"`
	Domains    *[]string                   `json:"domains"` // deprecated: verified domains
	Metadata   *map[string]json.RawMessage `json:"metadata"`
	ExternalID json.RawMessage             `json:"external_id"`
	AllowOut   *bool                       `json:"allow_profiles_outside_organization"`
}

type domainReq struct{ domain, state string }

// orgError is a 400 with a code (invalid_metadata, external_id_already_used).
type orgError struct{ code, msg string }

func (e *orgError) Error() string { return e.msg }

func validDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, r := range d {
		if !(r == '.' || r == '-' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// parse validates the body; create requires a name.
func (b *orgBody) parse(create bool) (name string, domains []domainReq, setDomains bool, meta map[string]*string, ext *string, err error) {
	if b.Name != nil {
		name = strings.TrimSpace(*b.Name)
	}
	if (create || b.Name != nil) && name == "" {
		return "", nil, false, nil, nil, invalid("name", "name must be a non-empty string")
	}
	if b.DomainData != nil {
		setDomains = true
		for _, d := range *b.DomainData {
			dom := strings.ToLower(strings.TrimSpace(d.Domain))
			if !validDomain(dom) {
				return "", nil, false, nil, nil, invalid("domain_data", "invalid domain: '"+d.Domain+"'")
			}
			if d.State != "pending" && d.State != "verified" {
				return "", nil, false, nil, nil, invalid("domain_data", "state must be pending or verified")
			}
			domains = append(domains, domainReq{dom, d.State})
		}
	} else if b.Domains != nil {
		setDomains = true
		for _, d := range *b.Domains {
			dom := strings.ToLower(strings.TrimSpace(d))
			if !validDomain(dom) {
				return "", nil, false, nil, nil, invalid("domains", "invalid domain: '"+d+"'")
			}
			domains = append(domains, domainReq{dom, "verified"})
		}
	}
	if b.Metadata != nil {
		meta = map[string]*string{}
		if len(*b.Metadata) > 50 {
			return "", nil, false, nil, nil, &orgError{"invalid_metadata", "Metadata may have at most 50 keys."}
		}
		for k, raw := range *b.Metadata {
			var v *string
			if len(k) > 40 || json.Unmarshal(raw, &v) != nil || (v != nil && len(*v) > 600) {
				return "", nil, false, nil, nil, &orgError{"invalid_metadata", "Metadata keys are at most 40 characters and values strings of at most 600."}
			}
			meta[k] = v
		}
	}
	if len(b.ExternalID) > 0 {
		var e *string
		if json.Unmarshal(b.ExternalID, &e) != nil || (e != nil && len(*e) > 128) {
			return "", nil, false, nil, nil, invalid("external_id", "external_id must be a string of at most 128 characters or null")
		}
		if e == nil {
			e = new(string)
		}
		ext = e
	}
	return name, domains, setDomains, meta, ext, nil
}

func writeOrgErr(w http.ResponseWriter, err error) {
	if oe, ok := err.(*orgError); ok {
		writeCodeMessage(w, http.StatusBadRequest, oe.code, oe.msg)
		return
	}
	writeError(w, err)
}

// applyOrg sets the parsed fields on o (a fresh copy); s.mu held.
func (s *Sandbox) applyOrg(c clk, o *org, name string, domains []domainReq, setDomains bool, meta map[string]*string, ext *string) error {
	if ext != nil && *ext != "" {
		for _, other := range s.st.orgs {
			if other.id != o.id && other.externalID == *ext {
				return &orgError{"external_id_already_used", "An Organization with the external ID '" + *ext + "' already exists."}
			}
		}
	}
	if name != "" {
		o.name = name
	}
	if setDomains {
		old := map[string]orgDomain{}
		for _, d := range o.domains {
			old[d.domain] = d
		}
		o.domains = nil
		for _, d := range domains {
			od, ok := old[d.domain]
			if !ok {
				od = orgDomain{id: s.ids.next("org_domain_", c.idAt), domain: d.domain, created: c.at}
			}
			if !ok || od.state != d.state {
				od.state, od.updated = d.state, c.at
				od.strategy = "manual"
				if d.state == "pending" {
					od.strategy = "dns"
				}
			}
			o.domains = append(o.domains, od)
			delete(old, d.domain)
		}
	}
	for k, v := range meta {
		if v == nil || *v == "" {
			o.metadata = withAttr(o.metadata, k, "", true)
		} else {
			o.metadata = withAttr(o.metadata, k, *v, false)
		}
	}
	if ext != nil {
		o.externalID = *ext
	}
	o.updated = c.at
	return nil
}

// emitOrgEvent records organization.created/updated; org events keep their
// rendered data since organisations are few.
func (s *Sandbox) emitOrgEvent(c clk, name string, o *org) {
	var j jw
	writeOrg(&j, o)
	s.emit(c, &event{name: name, orgID: o.id, raw: j.b})
}

func (s *Sandbox) createOrg(w http.ResponseWriter, r *http.Request) {
	var b orgBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	name, domains, setDomains, meta, ext, err := b.parse(true)
	if err != nil {
		writeOrgErr(w, err)
		return
	}
	s.mu.Lock()
	c := s.live()
	o := &org{id: s.ids.next("org_", c.idAt), created: c.at}
	if err := s.applyOrg(c, o, name, domains, setDomains, meta, ext); err != nil {
		s.mu.Unlock()
		writeOrgErr(w, err)
		return
	}
	s.st.putOrg(o)
	s.emitOrgEvent(c, "organization.created", o)
	var j jw
	writeOrg(&j, o)
	s.mu.Unlock()
	writeJSONBytes(w, http.StatusCreated, j.b)
}

func (s *Sandbox) updateOrg(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var b orgBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	name, domains, setDomains, meta, ext, err := b.parse(false)
	if err != nil {
		writeOrgErr(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.st.org(id)
	if cur == nil {
		writeError(w, &notFoundError{"Organization", id})
		return
	}
	o := *cur
	o.domains = append([]orgDomain(nil), cur.domains...)
	o.metadata = append([]attr(nil), cur.metadata...)
	c := s.live()
	if err := s.applyOrg(c, &o, name, domains, setDomains, meta, ext); err != nil {
		writeOrgErr(w, err)
		return
	}
	s.st.putOrg(&o)
	s.emitOrgEvent(c, "organization.updated", &o)
	var j jw
	writeOrg(&j, &o)
	writeJSONBytes(w, http.StatusOK, j.b)
}
