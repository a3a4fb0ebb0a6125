package views

import (
	"fmt"
	"strconv"
	"time"
)

// plural formats a count with the right noun: "1 person", "3 people".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Plural is plural for other packages' view code.
func Plural(n int, one, many string) string { return plural(n, one, many) }

// when formats a time for people: "2026-11-30 10:42 UTC", or "never".
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ago formats how long ago t was, coarsely.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// ProviderLabel names a WorkOS directory type for people.
func ProviderLabel(t string) string {
	switch t {
	case "okta scim v2.0":
		return "Okta (SCIM)"
	case "azure scim v2.0":
		return "Microsoft Entra ID (SCIM)"
	case "gsuite directory":
		return "Google Workspace"
	case "generic scim v2.0":
		return "Generic SCIM"
	case "onelogin scim v2.0":
		return "OneLogin (SCIM)"
	case "jump cloud scim v2.0":
		return "JumpCloud (SCIM)"
	case "rippling scim v2.0", "rippling":
		return "Rippling"
	case "pingfederate scim v2.0":
		return "PingFederate (SCIM)"
	case "cyberark scim v2.0":
		return "CyberArk (SCIM)"
	case "sailpoint scim v2.0":
		return "SailPoint (SCIM)"
	case "workday", "sftp workday":
		return "Workday"
	case "bamboohr":
		return "BambooHR"
	case "hibob":
		return "HiBob"
	case "":
		return "Unknown provider"
	}
	return t
}

// DirectoryStateLabel says a directory's REST state in words.
func DirectoryStateLabel(s string) string {
	switch s {
	case "linked", "active":
		return "Linked"
	case "validating":
		return "Validating"
	case "invalid_credentials":
		return "Invalid credentials"
	case "unlinked", "inactive":
		return "Unlinked"
	case "deleting":
		return "Being deleted"
	}
	return s
}
