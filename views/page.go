// Package views renders Roster's HTML with templ. Components take view
// models (plain structs shaped like the page), never database rows, and know
// nothing of HTTP.
package views

import "encoding/json"

// Page is the chrome every page shares.
type Page struct {
	Title  string
	Active string // key of the current nav item
	CSRF   string
	Admin  *AdminBadge // nil when nobody is signed in
	Nav    []NavItem
	Demo   bool
	Flash  Flash
	// Selected is the number of people in the admin's selection; the tray
	// shows when it is above zero.
	Selected int
}

// AdminBadge names the signed-in admin.
type AdminBadge struct {
	Email    string
	OrgName  string // "" for a platform admin
	Platform bool
}

// NavItem is one link of the main navigation.
type NavItem struct {
	Key, Label, Href string
}

// Flash is a one-time message shown at the top of a page.
type Flash struct {
	Kind    string // info, ok, warn, error
	Message string
}

func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

func ariaCurrent(active, key string) string {
	if active == key {
		return "page"
	}
	return ""
}
