package sandbox

import (
	"strings"
	"testing"
)

type orgJSON struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Domains []struct {
		ID, Domain, State string
		OrganizationID    string `json:"organization_id"`
	} `json:"domains"`
	Metadata   map[string]string `json:"metadata"`
	ExternalID *string           `json:"external_id"`
}

func TestOrganizations_CreateGetUpdateList(t *testing.T) {
	h := newHarness(t, Options{Preset: PresetDemo})
	mark := h.lastEventID()
	r := h.do("POST", "/organizations", `{"name":"Acme <Corp>","domain_data":[{"domain":"Acme.example","state":"verified"},{"domain":"acme-labs.example","state":"pending"}],"metadata":{"tier":"gold"},"external_id":"ext-1"}`, true)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	o := decode[orgJSON](t, r.body)
	if o.Object != "organization" || !strings.HasPrefix(o.ID, "org_") || len(o.Domains) != 2 || o.Domains[0].Domain != "acme.example" ||
		o.Domains[1].State != "pending" || o.Domains[0].OrganizationID != o.ID || o.Metadata["tier"] != "gold" || *o.ExternalID != "ext-1" {
		t.Errorf("created %+v", o)
	}
	if got := decode[orgJSON](t, h.get("/organizations/"+o.ID, 200)); got.Name != "Acme <Corp>" {
		t.Errorf("get: %+v", got)
	}
	if got := decode[orgJSON](t, h.get("/organizations/external_id/ext-1", 200)); got.ID != o.ID {
		t.Errorf("by external id: %+v", got)
	}
	r = h.do("PUT", "/organizations/"+o.ID, `{"name":"Acme","domain_data":[{"domain":"acme-labs.example","state":"verified"}],"metadata":{"tier":null,"region":"eu"}}`, true)
	u := decode[orgJSON](t, r.body)
	if r.status != 200 || u.Name != "Acme" || len(u.Domains) != 1 || u.Domains[0].ID != o.Domains[1].ID || u.Domains[0].State != "verified" ||
		u.Metadata["region"] != "eu" || u.Metadata["tier"] != "" || *u.ExternalID != "ext-1" {
		t.Errorf("updated %s", r.body)
	}
	if got := names(h.eventsSinceNames(mark, "organization.created,organization.updated")); strings.Join(got, " ") != "organization.created organization.updated" {
		t.Errorf("events %v", got)
	}
	// Filters.
	all := decode[idList](t, h.get("/organizations?limit=100", 200))
	if len(all.Data) != 3 || all.Data[0].ID != o.ID {
		t.Errorf("list %v", all.ids())
	}
	if p := decode[idList](t, h.get("/organizations?domains=ACME-LABS.example,nope.example", 200)); len(p.Data) != 1 || p.Data[0].ID != o.ID {
		t.Errorf("domains filter %v", p.ids())
	}
	if p := decode[idList](t, h.get("/organizations?search=contoso", 200)); len(p.Data) != 1 || p.Data[0].ID == o.ID {
		t.Errorf("search %v", p.ids())
	}
	// Errors.
	h.get("/organizations/org_nope", 404)
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/organizations", `{}`, 422, `"field":"name"`},
		{"POST", "/organizations", `{"name":"X","domain_data":[{"domain":"not a domain","state":"verified"}]}`, 422, `"field":"domain_data"`},
		{"POST", "/organizations", `{"name":"X","domain_data":[{"domain":"x.example","state":"maybe"}]}`, 422, `"field":"domain_data"`},
		{"POST", "/organizations", `{"name":"X","external_id":"ext-1"}`, 400, `"code":"external_id_already_used"`},
		{"POST", "/organizations", `{"name":"X","metadata":{"k":7}}`, 400, `"code":"invalid_metadata"`},
		{"PUT", "/organizations/org_nope", `{"name":"X"}`, 404, `"entity_id":"org_nope"`},
		{"PUT", "/organizations/" + o.ID, `{"name":""}`, 422, `"field":"name"`},
	} {
		r := h.do(c.method, c.path, c.body, true)
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, r.status, r.body)
		}
	}
}

// eventsSinceNames lists events of the given names after an id.
func (h *harness) eventsSinceNames(after, names string) []eventJSON {
	h.t.Helper()
	path := "/events?limit=100&events=" + names
	if after != "" {
		path += "&after=" + after
	}
	return decode[eventList](h.t, h.get(path, 200)).Data
}
