package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Response helpers. Every JSON body is rendered by jw.

func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	var j jw
	j.obj()
	j.kstr("message", msg)
	j.endObj()
	writeJSONBytes(w, status, j.b)
}

// writeError maps the sandbox's errors to WorkOS's bodies.
func writeError(w http.ResponseWriter, err error) {
	var nf *notFoundError
	var ve *validationError
	switch {
	case errors.As(err, &nf):
		var j jw
		j.obj()
		j.kstr("message", nf.Error())
		j.kstr("code", "entity_not_found")
		j.kstr("entity_id", nf.id)
		j.endObj()
		writeJSONBytes(w, http.StatusNotFound, j.b)
	case errors.As(err, &ve):
		var j jw
		j.obj()
		j.kstr("message", "Validation failed")
		j.karr("errors")
		for _, f := range ve.errs {
			j.obj()
			j.kstr("field", f.field)
			j.kstr("code", f.code)
			j.endObj()
		}
		j.endArr()
		j.endObj()
		writeJSONBytes(w, http.StatusUnprocessableEntity, j.b)
	default:
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// withRequestID sets X-Request-Id on every response.
func (s *Sandbox) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		h := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", h[:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:])
		next.ServeHTTP(w, r)
	})
}

// api wraps a WorkOS API handler: bearer auth, then injected faults.
func (s *Sandbox) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		key, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || key != s.opts.APIKey {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		if s.injectFault(w, r) {
			return
		}
		h(w, r)
	}
}

func (s *Sandbox) routeAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /directories", s.api(s.listDirectories))
	mux.HandleFunc("GET /directories/{id}", s.api(s.getDirectory))
	mux.HandleFunc("DELETE /directories/{id}", s.api(s.deleteDirectoryAPI))
	mux.HandleFunc("GET /directory_users", s.api(s.listUsers))
	mux.HandleFunc("GET /directory_users/{id}", s.api(s.getUser))
	mux.HandleFunc("GET /directory_groups", s.api(s.listGroups))
	mux.HandleFunc("GET /directory_groups/{id}", s.api(s.getGroup))
	mux.HandleFunc("GET /events", s.api(s.listEvents))
	s.routeOrgAPI(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, "Not Found")
	})
}

// writeList renders the list envelope around items.
func writeList[T any](w http.ResponseWriter, pr pageResult[T], item func(*jw, T)) {
	var j jw
	j.b = make([]byte, 0, 1024*(1+len(pr.items)))
	j.obj()
	j.kstr("object", "list")
	j.karr("data")
	for _, it := range pr.items {
		item(&j, it)
	}
	j.endArr()
	j.kobj("list_metadata")
	j.kstrOrNull("before", pr.before, pr.before != "")
	j.kstrOrNull("after", pr.after, pr.after != "")
	j.endObj()
	j.endObj()
	writeJSONBytes(w, http.StatusOK, j.b)
}

func (s *Sandbox) listDirectories(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := parsePage(q)
	if err != nil {
		writeError(w, err)
		return
	}
	orgID, search, domain := q.Get("organization_id"), strings.ToLower(q.Get("search")), strings.ToLower(q.Get("domain"))
	s.mu.RLock()
	defer s.mu.RUnlock()
	var dirs []*directory
	for _, d := range s.st.dirs {
		if orgID != "" && d.orgID != orgID {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(d.name), search) {
			continue
		}
		if domain != "" && !s.dirHasDomain(d, domain) {
			continue
		}
		dirs = append(dirs, d)
	}
	writeList(w, paginate(dirs, dirID, p), s.st.writeDirectory)
}

// dirHasDomain matches the deprecated domain filter against the
// directory's own domain and its organisation's domains.
func (s *Sandbox) dirHasDomain(d *directory, domain string) bool {
	if strings.EqualFold(d.domain, domain) {
		return true
	}
	if o := s.st.org(d.orgID); o != nil {
		for _, od := range o.domains {
			if strings.EqualFold(od.domain, domain) {
				return true
			}
		}
	}
	return false
}

func (s *Sandbox) getDirectory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.st.dir(id)
	if d == nil {
		writeError(w, &notFoundError{"Directory", id})
		return
	}
	var j jw
	s.st.writeDirectory(&j, d)
	writeJSONBytes(w, http.StatusOK, j.b)
}

// deleteDirectoryAPI answers like the real API: 202, text/plain, "Accepted".
func (s *Sandbox) deleteDirectoryAPI(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	d := s.st.dir(id)
	if d != nil {
		s.deleteDirectory(s.live(), d)
	}
	s.mu.Unlock()
	if d == nil {
		writeError(w, &notFoundError{"Directory", id})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte("Accepted"))
}

func (s *Sandbox) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dirF, groupF, idpF, emailF := q.Get("directory"), q.Get("group"), q.Get("idp_id"), q.Get("email")
	if dirF == "" && groupF == "" {
		const msg = `Please provide either "directory" or "group" parameters.`
		writeError(w, &validationError{errs: []fieldError{{"directory", msg}, {"group", msg}}})
		return
	}
	if (idpF != "" || emailF != "") && dirF == "" {
		field := "idp_id"
		if idpF == "" {
			field = "email"
		}
		writeError(w, invalid(field, `Requires the "directory" parameter to also be provided.`))
		return
	}
	p, err := parsePage(q)
	if err != nil {
		writeError(w, err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	limitKey := dirF
	if limitKey == "" {
		if g := s.st.groups[groupF]; g != nil {
			limitKey = g.dirID
		}
	}
	if !s.allowUsersRequest(w, limitKey) {
		return
	}
	var users []*user
	switch {
	case groupF != "":
		g := s.st.groups[groupF]
		if g != nil && (dirF == "" || g.dirID == dirF) {
			for _, uid := range s.st.data[g.dirID].members[g.id] {
				users = append(users, s.st.users[uid])
			}
		}
	default:
		if dd := s.st.data[dirF]; dd != nil {
			users = dd.users
		}
	}
	if idpF != "" || emailF != "" {
		var filtered []*user
		for _, u := range users {
			if idpF != "" && u.idpID != idpF {
				continue
			}
			if emailF != "" && (u.noEmail || !strings.EqualFold(u.email, emailF)) {
				continue
			}
			filtered = append(filtered, u)
		}
		users = filtered
	}
	legacy := s.legacy
	writeList(w, paginate(users, userID, p), func(j *jw, u *user) { s.st.writeUserREST(j, u, legacy) })
}

func (s *Sandbox) getUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.st.users[id]
	if u == nil {
		writeError(w, &notFoundError{"Directory User", id})
		return
	}
	var j jw
	s.st.writeUserREST(&j, u, s.legacy)
	writeJSONBytes(w, http.StatusOK, j.b)
}

func (s *Sandbox) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dirF, userF := q.Get("directory"), q.Get("user")
	if dirF == "" && userF == "" {
		const msg = `Please provide either "directory" or "user" parameters.`
		writeError(w, &validationError{errs: []fieldError{{"directory", msg}, {"user", msg}}})
		return
	}
	p, err := parsePage(q)
	if err != nil {
		writeError(w, err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var groups []*group
	switch {
	case userF != "":
		if u := s.st.users[userF]; u != nil && (dirF == "" || u.dirID == dirF) {
			groups = s.st.groupsOf(u)
		}
	default:
		if dd := s.st.data[dirF]; dd != nil {
			groups = dd.groups
		}
	}
	writeList(w, paginate(groups, groupID, p), writeGroup)
}

func (s *Sandbox) getGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.st.groups[id]
	if g == nil {
		writeError(w, &notFoundError{"Directory Group", id})
		return
	}
	var j jw
	writeGroup(&j, g)
	writeJSONBytes(w, http.StatusOK, j.b)
}

// eventRetention is how far back the Events API reaches.
const eventRetention = 30 * 24 * time.Hour
