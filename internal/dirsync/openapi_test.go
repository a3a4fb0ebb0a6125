package dirsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specPath is the official spec installed by `npm ci` in tests/npm.
const specPath = "../../tests/npm/node_modules/@workos/openapi-spec/open-api-spec.yaml"

var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
	absent bool
}

// loadSpec loads the spec once per test binary, fixing its one defect: five
// list schemas repeat "list_metadata" in required, which breaks the JSON
// Schema metaschema and makes kin-openapi fall back to a laxer validator.
func loadSpec(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		raw, err := os.ReadFile(specPath)
		if errors.Is(err, fs.ErrNotExist) {
			spec.absent = true
			return
		}
		if err != nil {
			spec.err = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(raw)
		if err != nil {
			spec.err = err
			return
		}
		seen := map[*openapi3.Schema]bool{}
		for _, s := range doc.Components.Schemas {
			dedupeRequired(s, seen)
		}
		doc.Servers = nil // match the test server's host
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			spec.err = fmt.Errorf("spec invalid after fix-up: %w", err)
			return
		}
		spec.doc = doc
		spec.router, spec.err = legacy.NewRouter(doc)
	})
	if spec.absent {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: run `npm ci` in tests/npm", specPath)
		}
		t.Skipf("%s is missing: run `npm ci` in tests/npm to check against the OpenAPI spec", specPath)
	}
	if spec.err != nil {
		t.Fatal(spec.err)
	}
	return spec.doc, spec.router
}

func dedupeRequired(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	var uniq []string
	for _, r := range s.Required {
		if !slices.Contains(uniq, r) {
			uniq = append(uniq, r)
		}
	}
	s.Required = uniq
	for _, p := range s.Properties {
		dedupeRequired(p, seen)
	}
	dedupeRequired(s.Items, seen)
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
		for _, r := range group {
			dedupeRequired(r, seen)
		}
	}
}

// recorder answers every call plausibly and keeps each request with its body.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, uri string
	header      http.Header
	body        []byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, recorded{r.Method, r.URL.RequestURI(), r.Header.Clone(), body})
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("Accepted"))
	case r.URL.Path == "/portal/generate_link":
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"link":"https://setup.workos.com/portal/launch?secret=x"}`))
	case strings.Count(r.URL.Path, "/") == 1 && r.Method == http.MethodGet: // a list
		_, _ = w.Write([]byte(`{"object":"list","data":[],"list_metadata":{"before":null,"after":null}}`))
	default:
		_, _ = w.Write([]byte(`{"id":"x","name":"n","domains":[]}`))
	}
}

// TestOpenAPI_ClientRequestsAreValid drives every client method and checks each
// recorded request against its operation in the official spec.
func TestOpenAPI_ClientRequestsAreValid(t *testing.T) {
	_, router := loadSpec(t)
	rec := &recorder{}
	c, _ := newTestClient(t, rec, nil)
	ctx := context.Background()
	lo := ListOptions{Limit: 100, After: "directory_user_01E1JG7J09H96KYP8HM9B0G5SJ", Before: "directory_user_01E1", Order: "asc"}
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := map[string]func() error{
		"ListDirectories": func() error {
			_, err := c.ListDirectories(ctx, ListDirectoriesOptions{ListOptions: lo, OrganizationID: "org_1", Search: "Foo Corp"})
			return err
		},
		"ListDirectories default": func() error { _, err := c.ListDirectories(ctx, ListDirectoriesOptions{}); return err },
		"GetDirectory":            func() error { _, err := c.GetDirectory(ctx, "directory_01ECAZ4NV9QMV47GW873HDCX74"); return err },
		"DeleteDirectory":         func() error { return c.DeleteDirectory(ctx, "directory_01ECAZ4NV9QMV47GW873HDCX74") },
		"ListUsers": func() error {
			_, err := c.ListUsers(ctx, ListUsersOptions{ListOptions: lo, Directory: "directory_1", Group: "directory_group_1", Email: "a@b.co", IdpID: "2836"})
			return err
		},
		"GetUser": func() error { _, err := c.GetUser(ctx, "directory_user_01E1JG7J09H96KYP8HM9B0G5SJ"); return err },
		"ListGroups": func() error {
			_, err := c.ListGroups(ctx, ListGroupsOptions{ListOptions: ListOptions{Order: "normal", Limit: 1}, Directory: "directory_1", User: "directory_user_1"})
			return err
		},
		"GetGroup": func() error { _, err := c.GetGroup(ctx, "directory_group_1"); return err },
		"ListEvents": func() error {
			_, err := c.ListEvents(ctx, ListEventsOptions{Events: DsyncEventTypes, After: "event_1", RangeStart: when, RangeEnd: when.Add(time.Hour), OrganizationID: "org_1", Limit: 100})
			return err
		},
		"ListOrganizations": func() error {
			_, err := c.ListOrganizations(ctx, ListOrganizationsOptions{ListOptions: lo, Search: "Acme", Domains: []string{"foo-corp.com", "bar.com"}})
			return err
		},
		"GetOrganization": func() error { _, err := c.GetOrganization(ctx, "org_1"); return err },
		"CreateOrganization": func() error {
			_, err := c.CreateOrganization(ctx, CreateOrganization{Name: "Foo Corp", DomainData: []DomainData{{"foo-corp.com", "pending"}}, ExternalID: "ext_1", Metadata: map[string]string{"tier": "gold"}})
			return err
		},
		"UpdateOrganization": func() error {
			_, err := c.UpdateOrganization(ctx, "org_1", UpdateOrganization{Name: "Foo", DomainData: []DomainData{{"foo.com", "verified"}}})
			return err
		},
		"GenerateLink": func() error {
			_, err := c.GenerateLink(ctx, GenerateLink{Organization: "org_1", Intent: IntentDsync, ReturnURL: "https://a.example/r", SuccessURL: "https://a.example/s"})
			return err
		},
	}
	for name, call := range calls {
		rec.reqs = nil
		if err := call(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range rec.reqs {
			if err := validateRequest(router, r); err != nil {
				t.Errorf("%s: %s %s is not valid for the spec: %v", name, r.method, r.uri, err)
			}
		}
	}
}

func validateRequest(router routers.Router, r recorded) error {
	req, err := http.NewRequest(r.method, "http://api.workos.test"+r.uri, bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	req.Header = r.header
	route, params, err := router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation: %w", err)
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	})
}

// TestOpenAPI_ValidatorCatchesBadRequests shows the check above can fail.
func TestOpenAPI_ValidatorCatchesBadRequests(t *testing.T) {
	_, router := loadSpec(t)
	for _, uri := range []string{
		"/directories?limit=1000&order=desc",
		"/directory_users?directory=d&order=sideways",
		"/directory_groups?limit=abc&order=desc",
	} {
		if err := validateRequest(router, recorded{method: "GET", uri: uri}); err == nil {
			t.Errorf("GET %s validated", uri)
		}
	}
	bad := recorded{method: "POST", uri: "/portal/generate_link", header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{"intent":"dsync"}`)}
	if err := validateRequest(router, bad); err == nil {
		t.Error("generate_link without organization validated")
	}
}

// TestOpenAPI_ExamplesDecode builds each schema's example from the spec
// (whole-object examples where present, else the per-property ones), checks it
// is valid for the schema, decodes it with our types and checks that every
// field of the example survives the round trip.
func TestOpenAPI_ExamplesDecode(t *testing.T) {
	doc, _ := loadSpec(t)
	tests := []struct {
		schema string
		decode func([]byte) (any, error)
	}{
		{"Directory", decodeAs[Directory]},
		{"DirectoryUserWithGroups", decodeAs[User]},
		{"DirectoryUser", decodeAs[User]},
		{"DirectoryGroup", decodeAs[Group]},
		{"Organization", decodeAs[Organization]},
		{"DirectoryList", decodeList[Directory]},
		{"DirectoryUserList", decodeList[User]},
		{"DirectoryGroupList", decodeList[Group]},
		{"OrganizationList", decodeList[Organization]},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			ref := doc.Components.Schemas[tt.schema]
			if ref == nil {
				t.Fatalf("schema %s not in spec", tt.schema)
			}
			ex := example(ref.Value, 0)
			if err := doc.ValidateSchemaJSON(ref.Value, ex, openapi3.EnableJSONSchema2020()); err != nil {
				t.Fatalf("built example is not valid for the schema: %v", err)
			}
			raw, _ := json.Marshal(ex)
			got, err := tt.decode(raw)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, raw)
			}
			compareExample(t, tt.schema, ex, toGeneric(t, got))
		})
	}
	t.Run("EventList", func(t *testing.T) {
		ex := doc.Components.Schemas["EventList"].Value.Example
		if ex == nil {
			t.Fatal("EventList has no example")
		}
		raw, _ := json.Marshal(ex)
		var env struct {
			Data []Event `json:"data"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatal(err)
		}
		if len(env.Data) == 0 {
			t.Fatal("no events in example")
		}
		var generic struct {
			Data []map[string]any `json:"data"`
		}
		_ = json.Unmarshal(raw, &generic)
		for i, e := range env.Data {
			v, err := e.Decode()
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			compareExample(t, "EventList.data", generic.Data[i]["data"], toGeneric(t, v))
		}
	})
	t.Run("operation examples", func(t *testing.T) {
		decoders := map[string]func([]byte) (any, error){
			"/organizations":         decodeAs[Organization],
			"/organizations/{id}":    decodeAs[Organization],
			"/directories/{id}":      decodeAs[Directory],
			"/directory_users/{id}":  decodeAs[User],
			"/directory_groups/{id}": decodeAs[Group],
		}
		n := 0
		for path, dec := range decoders {
			item := doc.Paths.Value(path)
			for method, op := range item.Operations() {
				for code, r := range op.Responses.Map() {
					if !strings.HasPrefix(code, "2") || r.Value == nil {
						continue
					}
					mt := r.Value.Content.Get("application/json")
					if mt == nil || mt.Example == nil {
						continue
					}
					raw, _ := json.Marshal(mt.Example)
					got, err := dec(raw)
					if err != nil {
						t.Fatalf("%s %s %s: %v", method, path, code, err)
					}
					compareExample(t, method+" "+path, mt.Example, toGeneric(t, got))
					n++
				}
			}
		}
		if n == 0 {
			t.Error("no operation examples found")
		}
	})
}

func decodeAs[T any](b []byte) (any, error) {
	var v T
	err := json.Unmarshal(b, &v)
	return v, err
}

func decodeList[T any](b []byte) (any, error) {
	var env listEnvelope[T]
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, err
	}
	p := env.page()
	var before, after any
	if p.Before != "" {
		before = p.Before
	}
	if p.After != "" {
		after = p.After
	}
	return map[string]any{"data": p.Data, "list_metadata": map[string]any{"before": before, "after": after}}, nil
}

func toGeneric(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// example builds an instance of s from its examples, consts and enums.
func example(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 8 {
		return nil
	}
	if s.Example != nil {
		return s.Example
	}
	if len(s.Examples) > 0 {
		return s.Examples[0]
	}
	if s.Const != nil {
		return s.Const
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	for _, group := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		for _, r := range group {
			if r.Value != nil && !(r.Value.Type != nil && r.Value.Type.Is("null")) {
				return example(r.Value, depth+1)
			}
		}
	}
	switch {
	case s.Type == nil:
		return nil
	case s.Type.Permits("object") && len(s.Properties) > 0:
		m := map[string]any{}
		for name, p := range s.Properties {
			m[name] = example(p.Value, depth+1)
		}
		return m
	case s.Type.Permits("object"):
		return map[string]any{}
	case s.Type.Permits("array"):
		if s.Items == nil {
			return []any{}
		}
		return []any{example(s.Items.Value, depth+1)}
	case s.Type.Permits("string"):
		if s.Format == "date-time" {
			return "2026-01-15T12:00:00.000Z"
		}
		return "x"
	case s.Type.Permits("integer"), s.Type.Permits("number"):
		return 1.0
	case s.Type.Permits("boolean"):
		return true
	}
	return nil
}

// compareExample checks that every field of the spec example reached our
// decoded value (re-encoded to generic JSON), timestamps compared as instants.
// Only "object", a constant type tag, may be dropped.
func compareExample(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		for k, wv := range w {
			if k == "object" {
				continue
			}
			gv, ok := g[k]
			if !ok && !isEmpty(wv) {
				t.Errorf("%s.%s: field lost (want %v)", path, k, wv)
				continue
			}
			compareExample(t, path+"."+k, wv, gv)
		}
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			t.Errorf("%s: got %d items, want %d", path, len(g), len(w))
			return
		}
		for i := range w {
			compareExample(t, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	case string:
		gs, _ := got.(string)
		if gs == w {
			return
		}
		wt, err1 := ParseTime(w)
		gt, err2 := ParseTime(gs)
		if err1 != nil || err2 != nil || !wt.Equal(gt) {
			t.Errorf("%s = %v, want %q", path, got, w)
		}
	case nil:
		if !isEmpty(got) {
			t.Errorf("%s = %v, want null", path, got)
		}
	default:
		if !reflect.DeepEqual(toFloat(want), toFloat(got)) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func toFloat(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}
