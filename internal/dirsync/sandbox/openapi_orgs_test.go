package sandbox

import "strings"

// checkOrgs validates the organization and portal endpoints (issue 9).
func (c *specCheck) checkOrgs(st State) {
	org := decode[orgJSON](c.t, c.check("POST", "/organizations",
		`{"name":"Spec Co","domain_data":[{"domain":"spec.example","state":"pending"}],"metadata":{"a":"b"},"external_id":"spec-1"}`, true, 201))
	for _, order := range []string{"", "&order=asc", "&order=normal"} {
		c.check("GET", "/organizations?limit=2"+order, "", true, 200)
	}
	c.check("GET", "/organizations?domains=spec.example&search=spec", "", true, 200)
	c.check("GET", "/organizations/"+org.ID, "", true, 200)
	c.check("GET", "/organizations/org_nope", "", true, 404)
	c.check("GET", "/organizations/external_id/spec-1", "", true, 200)
	c.check("PUT", "/organizations/"+org.ID, `{"name":"Spec Company","domain_data":[{"domain":"spec.example","state":"verified"}]}`, true, 200)
	c.check("PUT", "/organizations/org_nope", `{"name":"X"}`, true, 404)
	c.check("POST", "/organizations", `{"name":"Dup","external_id":"spec-1"}`, true, 400)
	c.check("POST", "/organizations", `{"name":""}`, true, 422)
	c.check("GET", "/events?events=organization.created,organization.updated", "", true, 200)
	link := decode[struct{ Link string }](c.t, c.check("POST", "/portal/generate_link", `{"organization":"`+org.ID+`","intent":"dsync","return_url":"https://app.example/r"}`, true, 201))
	if !strings.Contains(link.Link, "/_sandbox/portal/") {
		c.t.Errorf("link %s", link.Link)
	}
	c.check("POST", "/portal/generate_link", `{"organization":"org_nope","intent":"dsync"}`, true, 404)
	c.check("POST", "/portal/generate_link", `{"organization":"`+org.ID+`","intent":"sso"}`, true, 422)
}
