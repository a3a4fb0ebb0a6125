package dirsync

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strings"
	"time"
)

// Organization is a WorkOS organization (the tenant a directory belongs to).
type Organization struct {
	ID                               string               `json:"id"`
	Name                             string               `json:"name"`
	Domains                          []OrganizationDomain `json:"domains"`
	Metadata                         map[string]string    `json:"metadata,omitempty"`
	ExternalID                       string               `json:"external_id"` // "" when null
	StripeCustomerID                 string               `json:"stripe_customer_id,omitempty"`
	AllowProfilesOutsideOrganization bool                 `json:"allow_profiles_outside_organization"`
	CreatedAt                        time.Time            `json:"created_at"`
	UpdatedAt                        time.Time            `json:"updated_at"`
}

// UnmarshalJSON decodes an organization with lenient timestamps.
func (o *Organization) UnmarshalJSON(b []byte) error {
	type plain Organization
	*o = Organization{}
	w := struct {
		*plain
		CreatedAt flexTime `json:"created_at"`
		UpdatedAt flexTime `json:"updated_at"`
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	o.CreatedAt, o.UpdatedAt = time.Time(w.CreatedAt), time.Time(w.UpdatedAt)
	return nil
}

// OrganizationDomain is a domain of an organization.
type OrganizationDomain struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id,omitempty"`
	Domain         string `json:"domain"`
	// State is failed|legacy_verified|pending|unverified|verified.
	State                string    `json:"state,omitempty"`
	VerificationStrategy string    `json:"verification_strategy,omitempty"` // dns|manual
	VerificationPrefix   string    `json:"verification_prefix,omitempty"`
	VerificationToken    string    `json:"verification_token,omitempty"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// UnmarshalJSON decodes a domain with lenient timestamps.
func (d *OrganizationDomain) UnmarshalJSON(b []byte) error {
	type plain OrganizationDomain
	*d = OrganizationDomain{}
	w := struct {
		*plain
		CreatedAt flexTime `json:"created_at"`
		UpdatedAt flexTime `json:"updated_at"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d.CreatedAt, d.UpdatedAt = time.Time(w.CreatedAt), time.Time(w.UpdatedAt)
	return nil
}

// DomainData declares a domain when creating or updating an organization.
type DomainData struct {
	Domain string `json:"domain"`
	State  string `json:"state"` // pending|verified
}

// CreateOrganization is the body of Client.CreateOrganization. Name is required.
type CreateOrganization struct {
	Name       string            `json:"name"`
	DomainData []DomainData      `json:"domain_data,omitempty"`
	ExternalID string            `json:"external_id,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
}

// UpdateOrganization is the body of Client.UpdateOrganization; empty fields
// are left unchanged.
type UpdateOrganization struct {
	Name             string            `json:"name,omitempty"`
	DomainData       []DomainData      `json:"domain_data,omitempty"`
	ExternalID       string            `json:"external_id,omitempty"`
	StripeCustomerID string            `json:"stripe_customer_id,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

// ListOrganizationsOptions filters ListOrganizations.
type ListOrganizationsOptions struct {
	ListOptions
	Search  string   // matches the organization name
	Domains []string // any organization with one of these domains
}

// ListOrganizations returns one page of organizations.
func (c *Client) ListOrganizations(ctx context.Context, o ListOrganizationsOptions) (Page[Organization], error) {
	q := o.ListOptions.query()
	setIf(q, "search", o.Search)
	if len(o.Domains) > 0 {
		q.Set("domains", strings.Join(o.Domains, ",")) // style form, explode false
	}
	var env listEnvelope[Organization]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/organizations", query: q}, &env); err != nil {
		return Page[Organization]{}, err
	}
	return env.page(), nil
}

// AllOrganizations walks every page of organizations (see walk for the paging rules).
func (c *Client) AllOrganizations(ctx context.Context, o ListOrganizationsOptions) iter.Seq2[Organization, error] {
	return walk(ctx, o.ListOptions, func(lo ListOptions) (Page[Organization], error) {
		o.ListOptions = lo
		return c.ListOrganizations(ctx, o)
	})
}

// GetOrganization returns one organization.
func (c *Client) GetOrganization(ctx context.Context, id string) (Organization, error) {
	path, err := objectPath("GetOrganization", "organizations", id)
	if err != nil {
		return Organization{}, err
	}
	var org Organization
	err = c.do(ctx, request{method: http.MethodGet, path: path}, &org)
	return org, err
}

// CreateOrganization creates an organization. Retries reuse one
// Idempotency-Key, so a retried call cannot create two.
func (c *Client) CreateOrganization(ctx context.Context, in CreateOrganization) (Organization, error) {
	var org Organization
	err := c.do(ctx, request{method: http.MethodPost, path: "/organizations", body: in}, &org)
	return org, err
}

// UpdateOrganization updates an organization (PUT with only the fields set).
func (c *Client) UpdateOrganization(ctx context.Context, id string, in UpdateOrganization) (Organization, error) {
	path, err := objectPath("UpdateOrganization", "organizations", id)
	if err != nil {
		return Organization{}, err
	}
	var org Organization
	err = c.do(ctx, request{method: http.MethodPut, path: path, body: in}, &org)
	return org, err
}
