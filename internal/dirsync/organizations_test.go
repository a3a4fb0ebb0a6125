package dirsync

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
)

func TestCreateOrganization_RetrySafe(t *testing.T) {
	var mu sync.Mutex
	var keys, bodies []string
	n := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		bodies = append(bodies, string(b))
		first := n == 1
		mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/organizations" {
			t.Errorf("request = %s %s", r.Method, r.URL)
		}
		if first {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"object":"organization","id":"org_1","name":"Foo Corp","external_id":null,"metadata":{},
			"domains":[{"object":"organization_domain","id":"org_domain_1","domain":"foo-corp.com","state":"pending","verification_strategy":"dns"}],
			"created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-15T12:00:00.000Z"}`))
	})
	c, _ := newTestClient(t, h, nil)
	org, err := c.CreateOrganization(context.Background(), CreateOrganization{Name: "Foo Corp", DomainData: []DomainData{{Domain: "foo-corp.com", State: "pending"}}})
	if err != nil {
		t.Fatal(err)
	}
	if org.ID != "org_1" || org.ExternalID != "" || len(org.Domains) != 1 || org.Domains[0].State != "pending" || org.CreatedAt.IsZero() {
		t.Errorf("org = %+v", org)
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("idempotency keys = %q, want one key reused", keys)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(bodies[1]), &sent); err != nil {
		t.Fatal(err)
	}
	if sent["name"] != "Foo Corp" || sent["domain_data"] == nil || bodies[0] != bodies[1] {
		t.Errorf("bodies = %q", bodies)
	}
	if _, ok := sent["external_id"]; ok {
		t.Errorf("empty external_id sent: %s", bodies[1])
	}
}

func TestOrganizations_Validation(t *testing.T) {
	tests := []struct {
		status int
		body   string
		call   func(c *Client) error
	}{
		{400, `{"code":"external_id_already_used","message":"Request could not be processed."}`, func(c *Client) error {
			_, err := c.CreateOrganization(context.Background(), CreateOrganization{Name: "x", ExternalID: "dup"})
			return err
		}},
		{422, `{"message":"Validation failed","errors":[{"field":"domain_data","code":"invalid"}]}`, func(c *Client) error {
			_, err := c.UpdateOrganization(context.Background(), "org_1", UpdateOrganization{DomainData: []DomainData{{"bad", "nope"}}})
			return err
		}},
		{422, `{"message":"Organization not found: 'org_01EHQMYV6MBK39QC5PZXHY59C3'."}`, func(c *Client) error {
			_, err := c.GenerateLink(context.Background(), GenerateLink{Organization: "org_01EHQMYV6MBK39QC5PZXHY59C3", Intent: IntentDsync})
			return err
		}},
		{400, `{"message":"Invalid domains"}`, func(c *Client) error {
			_, err := c.ListOrganizations(context.Background(), ListOrganizationsOptions{Domains: []string{"!"}})
			return err
		}},
	}
	for _, tt := range tests {
		s := &scripted{resps: []resp{{tt.status, tt.body, nil}}}
		c, _ := newTestClient(t, s, nil)
		err := tt.call(c)
		if !errors.Is(err, ErrValidation) || s.count() != 1 {
			t.Errorf("%d %s: err = %v, requests = %d", tt.status, tt.body, err, s.count())
		}
	}
}

func TestGenerateLink(t *testing.T) {
	s := &scripted{resps: []resp{{201, `{"link":"https://setup.workos.com/portal/launch?secret=abc"}`, nil}}}
	c, _ := newTestClient(t, s, nil)
	link, err := c.GenerateLink(context.Background(), GenerateLink{Organization: "org_1", Intent: IntentDsync, ReturnURL: "https://roster.example/back"})
	if err != nil || link != "https://setup.workos.com/portal/launch?secret=abc" {
		t.Fatalf("link = %q, err = %v", link, err)
	}
	r := s.reqs[0]
	if r.Method != http.MethodPost || r.URL.Path != "/portal/generate_link" {
		t.Errorf("request = %s %s", r.Method, r.URL)
	}

	s = &scripted{resps: []resp{{201, `{}`, nil}}}
	c, _ = newTestClient(t, s, nil)
	if _, err := c.GenerateLink(context.Background(), GenerateLink{Organization: "org_1"}); !errors.Is(err, ErrMalformed) {
		t.Errorf("missing link: err = %v", err)
	}
}

func TestListOrganizations(t *testing.T) {
	s := &scripted{resps: []resp{{200, `{"object":"list","data":[{"object":"organization","id":"org_1","name":"A","domains":[],"metadata":{"tier":"gold"},"external_id":"ext","created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-15T12:00:00.000Z"}],"list_metadata":{"before":null,"after":"org_1"}}`, nil}}}
	c, _ := newTestClient(t, s, nil)
	p, err := c.ListOrganizations(context.Background(), ListOrganizationsOptions{Search: "A", Domains: []string{"a.com", "b.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 1 || p.After != "org_1" || p.Data[0].Metadata["tier"] != "gold" || p.Data[0].ExternalID != "ext" {
		t.Errorf("page = %+v", p)
	}
	if got := s.reqs[0].URL.RawQuery; got != "domains=a.com%2Cb.com&order=desc&search=A" {
		t.Errorf("query = %s", got)
	}
}
