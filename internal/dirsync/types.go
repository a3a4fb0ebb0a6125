package dirsync

import (
	"encoding/json"
	"time"
)

// Directory is a WorkOS directory as the REST API returns it.
type Directory struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	ExternalKey    string `json:"external_key"`
	Type           string `json:"type"` // open string, e.g. "okta scim v2.0"
	Name           string `json:"name"`
	Domain         string `json:"domain,omitempty"` // omitted by the API when empty
	// State uses the REST vocabulary: linked|validating|invalid_credentials|unlinked|deleting.
	State     string             `json:"state"`
	Metadata  *DirectoryMetadata `json:"metadata,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// DirectoryMetadata holds the user and group counts WorkOS reports for a directory.
type DirectoryMetadata struct {
	Users  DirectoryUserCounts `json:"users"`
	Groups int                 `json:"groups"`
}

// DirectoryUserCounts splits a directory's users by state.
type DirectoryUserCounts struct {
	Active   int `json:"active"`
	Inactive int `json:"inactive"`
}

// Linked reports whether the directory is active ("linked" in REST, "active" in events).
func (d Directory) Linked() bool { return linkedState(d.State) }

func linkedState(s string) bool { return s == "linked" || s == "active" }

// UnmarshalJSON decodes a directory with lenient timestamps.
func (d *Directory) UnmarshalJSON(b []byte) error {
	type plain Directory
	*d = Directory{}
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

// User is a directory user. REST responses also carry the deprecated Groups.
type User struct {
	ID             string `json:"id"`
	DirectoryID    string `json:"directory_id"`
	OrganizationID string `json:"organization_id"` // absent in very old data
	IdpID          string `json:"idp_id"`
	Email          string `json:"email"` // primary email; "" when null
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	Name           string `json:"name"`
	// Deprecated by WorkOS (null/[] since 2026-04-15); use CustomAttributes.
	Username string      `json:"username"`
	JobTitle string      `json:"job_title"`
	Emails   []UserEmail `json:"emails,omitempty"`
	// State is active|inactive|suspended ("suspended" folded into inactive since 2023).
	State            string         `json:"state"`
	RawAttributes    map[string]any `json:"raw_attributes,omitempty"`
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
	Role             *Role          `json:"role,omitempty"`
	Roles            []Role         `json:"roles,omitempty"`
	// Groups is deprecated and REST-only; prefer ListGroups with User set.
	Groups    []Group   `json:"groups,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UserEmail is one entry of the deprecated User.Emails list.
type UserEmail struct {
	Primary bool   `json:"primary"`
	Type    string `json:"type,omitempty"`
	Value   string `json:"value"`
}

// Role is a role assigned to a directory user.
type Role struct {
	Slug string `json:"slug"`
}

// PrimaryEmail returns Email, falling back to the primary entry of the deprecated
// Emails list (old payloads have no top-level email).
func (u User) PrimaryEmail() string {
	if u.Email != "" {
		return u.Email
	}
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	return ""
}

// UnmarshalJSON decodes a directory user with lenient timestamps and null strings.
func (u *User) UnmarshalJSON(b []byte) error {
	var w userWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = w.user()
	return nil
}

// userWire mirrors User with lenient timestamp fields and no UnmarshalJSON of
// its own, so lists and events of users decode in one pass (a method on the
// element type makes encoding/json scan each element again).
type userWire struct {
	ID               string         `json:"id"`
	DirectoryID      string         `json:"directory_id"`
	OrganizationID   string         `json:"organization_id"`
	IdpID            string         `json:"idp_id"`
	Email            string         `json:"email"`
	FirstName        string         `json:"first_name"`
	LastName         string         `json:"last_name"`
	Name             string         `json:"name"`
	Username         string         `json:"username"`
	JobTitle         string         `json:"job_title"`
	Emails           []UserEmail    `json:"emails,omitempty"`
	State            string         `json:"state"`
	RawAttributes    map[string]any `json:"raw_attributes,omitempty"`
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
	Role             *Role          `json:"role,omitempty"`
	Roles            []Role         `json:"roles,omitempty"`
	Groups           []groupWire    `json:"groups,omitempty"`
	CreatedAt        flexTime       `json:"created_at"`
	UpdatedAt        flexTime       `json:"updated_at"`
}

func (w *userWire) user() User {
	return User{
		ID: w.ID, DirectoryID: w.DirectoryID, OrganizationID: w.OrganizationID, IdpID: w.IdpID,
		Email: w.Email, FirstName: w.FirstName, LastName: w.LastName, Name: w.Name,
		Username: w.Username, JobTitle: w.JobTitle, Emails: w.Emails, State: w.State,
		RawAttributes: w.RawAttributes, CustomAttributes: w.CustomAttributes,
		Role: w.Role, Roles: w.Roles, Groups: groupsOf(w.Groups),
		CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt),
	}
}

// Group is a directory group.
type Group struct {
	ID             string         `json:"id"`
	IdpID          string         `json:"idp_id"`
	DirectoryID    string         `json:"directory_id"`
	OrganizationID string         `json:"organization_id"`
	Name           string         `json:"name"`
	RawAttributes  map[string]any `json:"raw_attributes,omitempty"` // deprecated
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// UnmarshalJSON decodes a directory group with lenient timestamps.
func (g *Group) UnmarshalJSON(b []byte) error {
	var w groupWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*g = w.group()
	return nil
}

// groupWire mirrors Group with lenient timestamps (see userWire).
type groupWire struct {
	ID             string         `json:"id"`
	IdpID          string         `json:"idp_id"`
	DirectoryID    string         `json:"directory_id"`
	OrganizationID string         `json:"organization_id"`
	Name           string         `json:"name"`
	RawAttributes  map[string]any `json:"raw_attributes,omitempty"`
	CreatedAt      flexTime       `json:"created_at"`
	UpdatedAt      flexTime       `json:"updated_at"`
}

func (w *groupWire) group() Group {
	return Group{
		ID: w.ID, IdpID: w.IdpID, DirectoryID: w.DirectoryID, OrganizationID: w.OrganizationID,
		Name: w.Name, RawAttributes: w.RawAttributes,
		CreatedAt: time.Time(w.CreatedAt), UpdatedAt: time.Time(w.UpdatedAt),
	}
}

// groupsOf converts decoded groups, keeping nil as nil and [] as [].
func groupsOf(ws []groupWire) []Group {
	if ws == nil {
		return nil
	}
	gs := make([]Group, len(ws))
	for i := range ws {
		gs[i] = ws[i].group()
	}
	return gs
}

// Page is one page of a list endpoint. Before and After are "" when null.
type Page[T any] struct {
	Data   []T
	Before string
	After  string
}

// ListOptions are the pagination parameters shared by the list endpoints.
type ListOptions struct {
	Limit  int    // 1..100; 0 lets the server choose (10)
	Before string // cursor: an object id
	After  string // cursor: an object id
	Order  string // "desc" (default, always sent), "asc" or "normal" (legacy)
}

// ListDirectoriesOptions filters ListDirectories.
type ListDirectoriesOptions struct {
	ListOptions
	OrganizationID string
	Search         string
}

// ListUsersOptions filters ListUsers. WorkOS requires Directory or Group;
// Email and IdpID also require Directory.
type ListUsersOptions struct {
	ListOptions
	Directory string
	Group     string
	Email     string
	IdpID     string
}

// ListGroupsOptions filters ListGroups. WorkOS requires Directory or User.
type ListGroupsOptions struct {
	ListOptions
	Directory string
	User      string
}

// listMeta is list_metadata; pointers tell "null" from absent.
type listMeta struct {
	Before *string `json:"before"`
	After  *string `json:"after"`
}

// listEnvelope accepts both list_metadata and the 2021 camelCase listMetadata.
type listEnvelope[T any] struct {
	Data         []T       `json:"data"`
	ListMetadata *listMeta `json:"list_metadata"`
	Legacy       *listMeta `json:"listMetadata"`
}

// listWire is listEnvelope without its UnmarshalJSON.
type listWire[T any] struct {
	Data         []T       `json:"data"`
	ListMetadata *listMeta `json:"list_metadata"`
	Legacy       *listMeta `json:"listMetadata"`
}

// UnmarshalJSON decodes pages of users and groups through their wire types,
// so that each element is decoded in the same pass as the page.
func (e *listEnvelope[T]) UnmarshalJSON(b []byte) error {
	switch p := any(e).(type) {
	case *listEnvelope[User]:
		var w listWire[userWire]
		if err := json.Unmarshal(b, &w); err != nil {
			return err
		}
		*p = listEnvelope[User]{ListMetadata: w.ListMetadata, Legacy: w.Legacy}
		if w.Data != nil {
			p.Data = make([]User, len(w.Data))
			for i := range w.Data {
				p.Data[i] = w.Data[i].user()
			}
		}
		return nil
	case *listEnvelope[Group]:
		var w listWire[groupWire]
		if err := json.Unmarshal(b, &w); err != nil {
			return err
		}
		*p = listEnvelope[Group]{Data: groupsOf(w.Data), ListMetadata: w.ListMetadata, Legacy: w.Legacy}
		return nil
	}
	var w listWire[T]
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = listEnvelope[T](w)
	return nil
}

func (e listEnvelope[T]) page() Page[T] {
	p := Page[T]{Data: e.Data}
	m := e.ListMetadata
	if m == nil {
		m = e.Legacy
	}
	if m != nil {
		if m.Before != nil {
			p.Before = *m.Before
		}
		if m.After != nil {
			p.After = *m.After
		}
	}
	if p.Data == nil {
		p.Data = []T{}
	}
	return p
}
