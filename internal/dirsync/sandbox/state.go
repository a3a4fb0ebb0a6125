package sandbox

import (
	"encoding/json"
	"sort"
)

// State is the whole current state, as GET /_sandbox/state returns it.
// Objects are the REST shapes (users without the deprecated groups field),
// each list sorted by id.
type State struct {
	Organizations []Organization   `json:"organizations"`
	Directories   []Directory      `json:"directories"`
	Users         []DirectoryUser  `json:"users"`
	Groups        []DirectoryGroup `json:"groups"`
	Memberships   []Membership     `json:"memberships"`
}

// Organization is a REST organization object.
type Organization struct {
	Object     string               `json:"object"`
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Domains    []OrganizationDomain `json:"domains"`
	Metadata   map[string]string    `json:"metadata"`
	ExternalID *string              `json:"external_id"`
	CreatedAt  string               `json:"created_at"`
	UpdatedAt  string               `json:"updated_at"`
}

// OrganizationDomain is a domain of an Organization.
type OrganizationDomain struct {
	Object               string `json:"object"`
	ID                   string `json:"id"`
	OrganizationID       string `json:"organization_id"`
	Domain               string `json:"domain"`
	State                string `json:"state"`
	VerificationStrategy string `json:"verification_strategy,omitempty"`
	CreatedAt            string `json:"created_at"`
	UpdatedAt            string `json:"updated_at"`
}

// Directory is a REST directory object.
type Directory struct {
	Object         string            `json:"object"`
	ID             string            `json:"id"`
	OrganizationID string            `json:"organization_id"`
	ExternalKey    string            `json:"external_key"`
	Type           string            `json:"type"`
	State          string            `json:"state"`
	Name           string            `json:"name"`
	Domain         string            `json:"domain,omitempty"`
	Metadata       DirectoryMetadata `json:"metadata"`
	CreatedAt      string            `json:"created_at"`
	UpdatedAt      string            `json:"updated_at"`
}

// DirectoryMetadata holds a directory's user and group counts.
type DirectoryMetadata struct {
	Users struct {
		Active   int `json:"active"`
		Inactive int `json:"inactive"`
	} `json:"users"`
	Groups int `json:"groups"`
}

// DirectoryUser is a REST directory_user object (without groups).
type DirectoryUser struct {
	Object           string            `json:"object"`
	ID               string            `json:"id"`
	DirectoryID      string            `json:"directory_id"`
	OrganizationID   string            `json:"organization_id"`
	IdpID            string            `json:"idp_id"`
	Email            *string           `json:"email"`
	FirstName        *string           `json:"first_name"`
	LastName         *string           `json:"last_name"`
	Name             *string           `json:"name"`
	Emails           []json.RawMessage `json:"emails"`
	JobTitle         *string           `json:"job_title"`
	Username         *string           `json:"username"`
	State            string            `json:"state"`
	RawAttributes    map[string]any    `json:"raw_attributes"`
	CustomAttributes map[string]any    `json:"custom_attributes"`
	Role             *Role             `json:"role,omitempty"`
	Roles            []Role            `json:"roles,omitempty"`
	CreatedAt        string            `json:"created_at"`
	UpdatedAt        string            `json:"updated_at"`
}

// Role is a user's role slug.
type Role struct {
	Slug string `json:"slug"`
}

// DirectoryGroup is a REST directory_group object.
type DirectoryGroup struct {
	Object         string         `json:"object"`
	ID             string         `json:"id"`
	IdpID          string         `json:"idp_id"`
	DirectoryID    string         `json:"directory_id"`
	OrganizationID string         `json:"organization_id"`
	Name           string         `json:"name"`
	RawAttributes  map[string]any `json:"raw_attributes"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
}

// Membership says that a user belongs to a group.
type Membership struct {
	GroupID string `json:"group_id"`
	UserID  string `json:"user_id"`
}

// stateJSON renders GET /_sandbox/state.
func (s *Sandbox) stateJSON() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	var j jw
	j.obj()
	j.karr("organizations")
	for _, o := range st.orgs {
		writeOrg(&j, o)
	}
	j.endArr()
	j.karr("directories")
	for _, d := range st.dirs {
		st.writeDirectory(&j, d)
	}
	j.endArr()
	// Users and groups of all directories, by id.
	users := make([]*user, 0, len(st.users))
	for _, u := range st.users {
		users = append(users, u)
	}
	sort.Slice(users, func(a, b int) bool { return users[a].id < users[b].id })
	j.karr("users")
	for _, u := range users {
		writeUserFields(&j, u)
		j.endObj()
	}
	j.endArr()
	groups := make([]*group, 0, len(st.groups))
	for _, g := range st.groups {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(a, b int) bool { return groups[a].id < groups[b].id })
	j.karr("groups")
	for _, g := range groups {
		writeGroup(&j, g)
	}
	j.endArr()
	j.karr("memberships")
	for _, g := range groups {
		for _, uid := range st.data[g.dirID].members[g.id] {
			j.obj()
			j.kstr("group_id", g.id)
			j.kstr("user_id", uid)
			j.endObj()
		}
	}
	j.endArr()
	j.endObj()
	return j.b
}

// State returns the same data as GET /_sandbox/state as Go values. It is
// decoded from the rendered JSON, so the two cannot disagree.
func (s *Sandbox) State() State {
	var st State
	if err := json.Unmarshal(s.stateJSON(), &st); err != nil {
		// The sandbox renders this JSON itself; failing to read it is a bug.
		s.log.Error("sandbox: state JSON does not decode", "err", err)
	}
	return st
}
