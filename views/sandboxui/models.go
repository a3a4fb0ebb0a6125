// Package sandboxui holds the HTML pages of the WorkOS sandbox: the
// control page at /_sandbox/ and the admin portal. Its view models are
// plain structs filled by the sandbox package.
package sandboxui

// HomeVM is the control page.
type HomeVM struct {
	Flash          string
	FlashIsError   bool
	Directories    []DirectoryVM
	Organizations  []OrganizationVM
	Faults         FaultsVM
	Webhook        WebhookVM
	ChurnPerMinute int
	EventCount     int
	APIBase        string
}

// OrganizationVM is one organisation in the header list.
type OrganizationVM struct {
	ID, Name string
	Domains  []string
}

// DirectoryVM is one directory with a sample of its users and groups.
type DirectoryVM struct {
	ID, Name, Type, State, Organization, Domain string
	ActiveUsers, InactiveUsers, GroupCount      int
	Users                                       []UserVM
	Groups                                      []GroupVM
	MoreUsers, MoreGroups                       int
}

// UserVM is a row in the users table.
type UserVM struct {
	ID, Name, Email, JobTitle, Department string
	Active                                bool
}

// GroupVM is a row in the groups table.
type GroupVM struct {
	ID, Name string
	Members  int
}

// FaultsVM shows the fault-injection settings.
type FaultsVM struct {
	RateLimit           bool
	LatencyMS           int
	ErrorRate, DropRate string
}

// WebhookVM shows the webhook endpoint and delivery counters.
type WebhookVM struct {
	URL                         string
	HasSecret                   bool
	Pending, Delivered, Dropped int
	LastError                   string
}
