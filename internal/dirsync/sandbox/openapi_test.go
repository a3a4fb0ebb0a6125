package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var officialSpec struct {
	once   sync.Once
	router routers.Router
	err    error
}

// specRouter loads @workos/openapi-spec once. The spec lists
// "list_metadata" twice in the required array of five list schemas, which
// makes kin-openapi fall back to a validator that ignores `const`; the
// duplicates are removed in the loaded model before use.
func specRouter(t *testing.T) routers.Router {
	t.Helper()
	path := requireNPM(t, "@workos/openapi-spec/open-api-spec.yaml")
	officialSpec.once.Do(func() {
		raw, err := os.ReadFile(path)
		if err != nil {
			officialSpec.err = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			officialSpec.err = err
			return
		}
		visited := map[*openapi3.Schema]bool{}
		for _, s := range doc.Components.Schemas {
			uniqueRequired(s, visited)
		}
		doc.Servers = nil
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			officialSpec.err = err
			return
		}
		officialSpec.router, officialSpec.err = gorillamux.NewRouter(doc)
	})
	if officialSpec.err != nil {
		t.Fatalf("load spec: %v", officialSpec.err)
	}
	return officialSpec.router
}

func uniqueRequired(ref *openapi3.SchemaRef, visited map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || visited[ref.Value] {
		return
	}
	s := ref.Value
	visited[s] = true
	s.Required = slices.Compact(slices.Sorted(slices.Values(s.Required)))
	for _, p := range s.Properties {
		uniqueRequired(p, visited)
	}
	uniqueRequired(s.Items, visited)
	if s.AdditionalProperties.Schema != nil {
		uniqueRequired(s.AdditionalProperties.Schema, visited)
	}
	for _, refs := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range refs {
			uniqueRequired(r, visited)
		}
	}
}

// specCheck sends a request to the sandbox and validates the response
// against the operation of the official spec.
type specCheck struct {
	t      *testing.T
	h      *harness
	router routers.Router
	seen   map[string]bool // operation + status covered
}

func (c *specCheck) check(method, path, body string, auth bool, want int) []byte {
	c.t.Helper()
	r := c.h.do(method, path, body, auth)
	if r.status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.h.srv.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: no operation in the spec: %v", method, path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	switch {
	case want == http.StatusUnauthorized:
		// No operation declares 401; only the body's JSON-ness is checked below.
		opts.IncludeResponseStatus = false
	case method == http.MethodDelete && want == http.StatusAccepted:
		// The spec gives 202 an application/json {} body, but the live API
		// answers text/plain "Accepted" (recorded traffic); we follow the API.
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s (%d) does not match the spec: %v", method, path, r.status, err)
	}
	c.seen[route.Operation.OperationID+" "+http.StatusText(r.status)] = true
	return r.body
}

func TestOpenAPI_EveryResponseMatchesTheSpec(t *testing.T) {
	router := specRouter(t)
	h := newHarness(t, Options{Preset: PresetDemo})
	c := &specCheck{t: t, h: h, router: router, seen: map[string]bool{}}
	st := h.sb.State()
	okta, entra, google := dirByType(t, st, typeOkta), dirByType(t, st, typeEntra), dirByType(t, st, typeGoogle)

	// Make every kind of event exist before listing events.
	mark := h.lastEventID()
	gs := groupsOfDir(st, okta)
	u := decode[userJSON](t, h.control("POST", "/_sandbox/directories/"+okta+"/users",
		`{"first_name":"Spec","last_name":"Check","email":null,"job_title":"<script>alert(1)</script>","group_ids":["`+gs[0]+`"]}`, 201))
	h.control("PATCH", "/_sandbox/users/"+u.ID, `{"first_name":"Speck","role":"admin","job_title":null}`, 200)
	h.control("PATCH", "/_sandbox/groups/"+gs[1], `{"name":"Renamed"}`, 200)
	h.control("DELETE", "/_sandbox/groups/"+gs[0]+"/members/"+u.ID, "", 200)
	g := decode[DirectoryGroup](t, h.control("POST", "/_sandbox/directories/"+okta+"/groups", `{"name":"Temp"}`, 201))
	h.control("DELETE", "/_sandbox/groups/"+g.ID, "", 200)
	h.control("POST", "/_sandbox/scenarios/leavers", `{"directory_id":"`+entra+`","count":2,"mode":"delete"}`, 200)

	for _, order := range []string{"", "&order=desc", "&order=asc", "&order=normal"} {
		c.check("GET", "/directories?limit=2"+order, "", true, 200)
		first := decode[idList](t, c.check("GET", "/directory_users?limit=5&directory="+okta+order, "", true, 200))
		c.check("GET", "/directory_users?limit=5&directory="+okta+order+"&after="+first.Data[4].ID, "", true, 200)
		c.check("GET", "/directory_users?limit=5&directory="+okta+order+"&before="+first.Data[4].ID, "", true, 200)
		c.check("GET", "/directory_groups?limit=5&directory="+entra+order, "", true, 200)
	}
	c.check("GET", "/directories?search=okta&organization_id="+st.Organizations[0].ID, "", true, 200)
	c.check("GET", "/directories/"+okta, "", true, 200)
	c.check("GET", "/directories/"+google, "", true, 200) // with domain
	c.check("GET", "/directories/directory_nope", "", true, 404)
	c.check("GET", "/directory_users?group="+gs[1], "", true, 200)
	c.check("GET", "/directory_users/"+u.ID, "", true, 200) // email null
	for _, su := range st.Users[:40] {
		c.check("GET", "/directory_users/"+su.ID, "", true, 200) // hostile strings, no last name…
	}
	c.check("GET", "/directory_users/directory_user_nope", "", true, 404)
	c.check("GET", "/directory_users", "", true, 422)
	c.check("GET", "/directory_users?directory="+okta+"&limit=0", "", true, 422)
	c.check("GET", "/directory_groups?user="+st.Memberships[0].UserID, "", true, 200)
	c.check("GET", "/directory_groups/"+gs[1], "", true, 200)
	c.check("GET", "/directory_groups/directory_group_nope", "", true, 404)
	c.check("GET", "/directory_groups", "", true, 422)
	c.check("GET", "/directories", "", false, 401)

	// Legacy groups on users.
	h.sb.mu.Lock()
	h.sb.legacy = true
	h.sb.mu.Unlock()
	c.check("GET", "/directory_users?limit=20&directory="+okta, "", true, 200)
	h.sb.mu.Lock()
	h.sb.legacy = false
	h.sb.mu.Unlock()

	// Rate limit.
	h.control("PUT", "/_sandbox/faults", `{"rate_limit":true}`, 200)
	for range 4 {
		c.check("GET", "/directory_users?directory="+google, "", true, 200)
	}
	c.check("GET", "/directory_users?directory="+google, "", true, 429)
	h.control("PUT", "/_sandbox/faults", `{"rate_limit":false}`, 200)

	c.check("DELETE", "/directories/"+google, "", true, 202)
	// Events: a page of each dsync type, then every event since the changes.
	for _, name := range strings.Split(allDsync, ",") {
		p := decode[eventList](t, c.check("GET", "/events?limit=20&events="+name, "", true, 200))
		if len(p.Data) == 0 {
			t.Errorf("no %s event to validate", name)
		}
	}
	after := mark
	for {
		path := "/events?limit=100&events=" + allDsync
		if after != "" {
			path += "&after=" + after
		}
		p := decode[eventList](t, c.check("GET", path, "", true, 200))
		if p.ListMetadata.After == nil {
			break
		}
		after = *p.ListMetadata.After
	}
	c.check("GET", "/events", "", true, 400)
	c.check("GET", "/events?events=nope.nope", "", true, 400)
	c.check("GET", "/events?events=dsync.user.created&range_start=nope", "", true, 422)

	c.checkOrgs(st)

	// The validator is not vacuous: a broken body is refused.
	good := c.h.do("GET", "/directory_users?limit=1&directory="+okta, "", true)
	for _, broken := range []string{
		strings.Replace(string(good.body), `"object":"list"`, `"object":"lst"`, 1),
		strings.Replace(string(good.body), `"state":"active"`, `"state":"gone"`, 1),
		strings.Replace(string(good.body), `"groups":[]`, `"groups":null`, 1),
	} {
		req, _ := http.NewRequest("GET", c.h.srv.URL+"/directory_users?limit=1&directory="+okta, nil)
		route, params, _ := router.FindRoute(req)
		opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
		err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
			Status:                 200, Header: good.header, Body: io.NopCloser(strings.NewReader(broken)), Options: opts,
		})
		if err == nil {
			t.Errorf("a broken body passed validation: %.120s", broken)
		}
	}
	t.Logf("validated operations/statuses: %v", slices.Sorted(func(yield func(string) bool) {
		for k := range c.seen {
			if !yield(k) {
				return
			}
		}
	}))
}
