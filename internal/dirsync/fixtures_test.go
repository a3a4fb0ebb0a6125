package dirsync

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixtureDir is relative so that CI, which clones the repo beside shared/, finds it too.
const fixtureDir = "../../../shared/fixtures/workos"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestFixtures_AllCovered fails when a fixture is added without a decoding test.
func TestFixtures_AllCovered(t *testing.T) {
	covered := map[string]bool{
		"workos-go_dsync-group-user-added-event.json":    true,
		"workos-go_dsync-user-updated-event.json":        true,
		"workos-go_list-directory-user-with-groups.json": true,
		"workos-node_webhook-dsync-user-created.json":    true,
		"workos-openapi-spec_event-list-example.json":    true,
		"workos-python_webhook-signed-body.json":         true,
		"workos-ruby_vcr_get-directory-user.json":        true,
		"workos-ruby_vcr_list-directories-limit2.json":   true,
		"workos-ruby_vcr_list-groups-with-before.json":   true,
	}
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures found in %s (err %v)", fixtureDir, err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s has no decoding test", filepath.Base(f))
		}
	}
}

func TestFixture_ListDirectoriesLegacy(t *testing.T) {
	var env listEnvelope[Directory]
	if err := json.Unmarshal(readFixture(t, "workos-ruby_vcr_list-directories-limit2.json"), &env); err != nil {
		t.Fatal(err)
	}
	p := env.page()
	if len(p.Data) != 2 {
		t.Fatalf("got %d directories, want 2", len(p.Data))
	}
	if p.Before != "directory_01FK17DWRHH7APAFXT5B52PV0W" || p.After != "" {
		t.Errorf("cursors = %q/%q", p.Before, p.After)
	}
	d := p.Data[0]
	want := Directory{
		ID: "directory_01FK3HFFGMC2WF32RR8SKWC8KA", OrganizationID: "org_01FHRF60X0CDBB8F6A0YGSJJ2B",
		ExternalKey: "Ii2mw43BMAIqiKuA", Type: "azure scim v2.0", Name: "Azure Set Up Test", State: "linked",
		CreatedAt: mustTime(t, "2021-10-28T13:29:54.451Z"), UpdatedAt: mustTime(t, "2021-10-28T13:32:03.737Z"),
	}
	if !equalJSON(t, d, want) {
		t.Errorf("directory 0 = %+v, want %+v", d, want)
	}
	if !d.Linked() || d.Metadata != nil || d.Domain != "" {
		t.Errorf("Linked=%v Metadata=%v Domain=%q", d.Linked(), d.Metadata, d.Domain)
	}
	if p.Data[1].Domain != "example.me" || p.Data[1].Name != "Testing Active Attribute" {
		t.Errorf("directory 1 = %+v", p.Data[1])
	}
}

func TestFixture_ListDirectories_OnlyCamelCaseMetadata(t *testing.T) {
	body := `{"object":"list","data":[],"listMetadata":{"before":"directory_1","after":"directory_2"}}`
	var env listEnvelope[Directory]
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	if p := env.page(); p.Before != "directory_1" || p.After != "directory_2" || p.Data == nil {
		t.Errorf("page = %+v", p)
	}
}

func TestFixture_GetDirectoryUser(t *testing.T) {
	var u User
	if err := json.Unmarshal(readFixture(t, "workos-ruby_vcr_get-directory-user.json"), &u); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"id", u.ID, "directory_user_01FAZYNPC8M0HRYTKFP2GNX852"},
		{"directory", u.DirectoryID, "directory_01FAZYMST676QMTFN1DDJZZX87"},
		{"org", u.OrganizationID, "org_01FAZWCWR03DVWA83NCJYKKD54"},
		{"idp", u.IdpID, "6092c280a3f1e19ef6d8cef8"},
		{"email", u.Email, ""}, // no top-level email in 2022
		{"primary", u.PrimaryEmail(), "bob.fakename@workos.com"},
		{"username", u.Username, "bob.fakename@workos.com"},
		{"first", u.FirstName, "Bob"},
		{"last", u.LastName, "Fakename"},
		{"job", u.JobTitle, "Developer Success Engineer"},
		{"state", u.State, "active"},
		{"role", u.Role.Slug, "member"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(u.Emails) != 1 || !u.Emails[0].Primary || u.Emails[0].Type != "" {
		t.Errorf("emails = %+v", u.Emails)
	}
	if len(u.Roles) != 1 || u.Roles[0].Slug != "member" {
		t.Errorf("roles = %+v", u.Roles)
	}
	if u.RawAttributes["department"] != "Infra" || u.RawAttributes["spokeId"] != nil {
		t.Errorf("raw = %v", u.RawAttributes)
	}
	if u.CustomAttributes == nil || len(u.CustomAttributes) != 0 {
		t.Errorf("custom = %#v, want empty non-nil map", u.CustomAttributes)
	}
	if !u.CreatedAt.Equal(time.Date(2021, 7, 19, 17, 57, 57, 268e6, time.UTC)) {
		t.Errorf("created = %v", u.CreatedAt)
	}
	if len(u.Groups) != 2 || u.Groups[1].Name != "Department - Infra" || u.Groups[1].RawAttributes["parent"] != "5f27ada9a5e9bc0001a0ae48" {
		t.Errorf("groups = %+v", u.Groups)
	}
	if !u.Groups[0].UpdatedAt.Equal(mustTime(t, "2022-01-24T11:23:01.333Z")) {
		t.Errorf("group updated = %v", u.Groups[0].UpdatedAt)
	}
}

func TestFixture_ListUsersWithGroups(t *testing.T) {
	var env listEnvelope[User]
	if err := json.Unmarshal(readFixture(t, "workos-go_list-directory-user-with-groups.json"), &env); err != nil {
		t.Fatal(err)
	}
	p := env.page()
	if len(p.Data) != 1 || p.Before != "" || p.After != "" {
		t.Fatalf("page = %+v", p)
	}
	u := p.Data[0]
	if u.Email != "marcelina.davis@example.com" || u.Name != "Marcelina Davis" || u.Role == nil || u.Role.Slug != "admin" {
		t.Errorf("user = %+v", u)
	}
	if u.CustomAttributes["department"] != "Engineering" || u.Emails[0].Type != "work" {
		t.Errorf("custom = %v emails = %v", u.CustomAttributes, u.Emails)
	}
	if len(u.Groups) != 1 || u.Groups[0].ID != "directory_group_01E1JJS84MFPPQ3G655FHTKX6Z" || u.Groups[0].IdpID != "02grqrue4294w24" {
		t.Errorf("groups = %+v", u.Groups)
	}
	if !u.UpdatedAt.Equal(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("updated = %v", u.UpdatedAt)
	}
}

func TestFixture_ListGroupsWithBefore(t *testing.T) {
	var env listEnvelope[Group]
	if err := json.Unmarshal(readFixture(t, "workos-ruby_vcr_list-groups-with-before.json"), &env); err != nil {
		t.Fatal(err)
	}
	p := env.page()
	if len(p.Data) != 10 {
		t.Fatalf("got %d groups", len(p.Data))
	}
	if p.Before != "directory_group_01G2Z8D4PCZPAAB9CGS8EB34G5" || p.After != "directory_group_01G2Z8D4Z78331QJ6NS4SS23R2" {
		t.Errorf("cursors = %q / %q", p.Before, p.After)
	}
	g := p.Data[9]
	if g.Name != "Admins" || g.IdpID != "00gjdgxs2s95kg4" || g.OrganizationID != "" || g.DirectoryID != "directory_01G2Z8ADK5NPMVTWF48MVVE4HT" {
		t.Errorf("group = %+v", g)
	}
	if g.RawAttributes["adminCreated"] != true || !g.CreatedAt.Equal(mustTime(t, "2022-05-13T17:45:31.732Z")) {
		t.Errorf("raw = %v created = %v", g.RawAttributes, g.CreatedAt)
	}
}

func TestFixture_EventListExample(t *testing.T) {
	var env struct {
		Data         []Event `json:"data"`
		ListMetadata struct {
			After string `json:"after"`
		} `json:"list_metadata"`
	}
	if err := json.Unmarshal(readFixture(t, "workos-openapi-spec_event-list-example.json"), &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Data) != 1 || env.ListMetadata.After != "event_01EHZNVPK3SFK441A1RGBFSHRT" {
		t.Fatalf("env = %+v", env)
	}
	e := env.Data[0]
	if e.ID != "event_01EHZNVPK3SFK441A1RGBFSHRT" || e.Event != "dsync.user.created" || e.Context == nil {
		t.Errorf("event = %+v", e)
	}
	v, err := e.Decode()
	if err != nil {
		t.Fatal(err)
	}
	ue, ok := v.(*UserEvent)
	if !ok {
		t.Fatalf("Decode = %T", v)
	}
	if ue.Email != "veda@foo-corp.com" || ue.FirstName != "Veda" || ue.Username != "veda@foo-corp.com" || ue.PreviousAttributes != nil {
		t.Errorf("user = %+v", ue)
	}
	if ue.Role != nil || ue.Name != "" || len(ue.RawAttributes) != 0 {
		t.Errorf("absent fields decoded: role=%v name=%q raw=%v", ue.Role, ue.Name, ue.RawAttributes)
	}
}

func TestFixture_UserUpdatedEvent(t *testing.T) {
	e, err := ParseEvent(readFixture(t, "workos-go_dsync-user-updated-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Decode()
	if err != nil {
		t.Fatal(err)
	}
	ue := v.(*UserEvent)
	if ue.ID != "directory_user_01E1JG7J09H96KYP8HM9B0G5SJ" || ue.Roles[0].Slug != "admin" || ue.JobTitle != "Software Engineer" {
		t.Errorf("user = %+v", ue.User)
	}
	if _, ok := ue.PreviousAttributes["key"]; !ok {
		t.Errorf("previous_attributes lost: %v", ue.PreviousAttributes)
	}
	actor, _ := e.Context["actor"].(map[string]any)
	if actor["source"] != "api" {
		t.Errorf("context = %v", e.Context)
	}
}

func TestFixture_GroupUserAddedEvent(t *testing.T) {
	e, err := ParseEvent(readFixture(t, "workos-go_dsync-group-user-added-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Decode()
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*MembershipEvent)
	if m.DirectoryID != "directory_01EHWNCE74X7JSDV0X3SZ3KJNY" || m.User.Email != "marcelina.davis@example.com" || m.Group.Name != "Developers" {
		t.Errorf("membership = %+v", m)
	}
	if !e.CreatedAt.Equal(time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("created = %v", e.CreatedAt)
	}
}

func TestFixture_NodeWebhookUserCreated(t *testing.T) {
	e, err := ParseEvent(readFixture(t, "workos-node_webhook-dsync-user-created.json"))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "wh_123" || e.Context != nil {
		t.Errorf("event = %+v", e)
	}
	v, err := e.Decode()
	if err != nil {
		t.Fatal(err)
	}
	u := v.(*UserEvent)
	if u.IdpID != "00u1e8mutl6wlH3lL4x7" || u.LastName != "Lunchford" || u.Email != "" || u.OrganizationID != "" {
		t.Errorf("user = %+v", u.User)
	}
	ent, _ := u.RawAttributes["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if ent["department"] != "Customer Success" {
		t.Errorf("raw enterprise = %v", ent)
	}
}

func TestFixture_PythonSignedBody(t *testing.T) {
	body := readFixture(t, "workos-python_webhook-signed-body.json")
	e, err := ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	if e.Event != "connection.activated" || e.ID != "event_01J44T8116Q5M0RYCFA6KWNXN9" {
		t.Errorf("event = %+v", e)
	}
	if _, err := e.Decode(); err == nil {
		t.Error("Decode of a non-dsync event should fail")
	}
}

// equalJSON compares two values through their JSON form (handy for structs with maps).
func equalJSON(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(ja) == string(jb)
}
