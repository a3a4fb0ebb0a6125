package onboarding

import (
	"context"
	"errors"
	"fmt"

	"roster/internal/db"
)

// The selection: people and groups an admin picked for onboarding, kept
// server-side per admin. A selected group stands for all its members. Only
// what the admin may see can be added; ids of other organisations or
// unknown ids are skipped, never an error.

// MaxSelectIDs bounds the ids one request may add or remove.
const MaxSelectIDs = 1000

// ErrNothingChosen: a selection change named no items.
var ErrNothingChosen = fmt.Errorf("%w: nothing was chosen; tick at least one box first", ErrInvalid)

func cleanIDs(ids []string) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == "" || len(id) > 200 || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, ErrNothingChosen
	}
	if len(out) > MaxSelectIDs {
		return nil, fmt.Errorf("%w: at most %d items can be changed at once; use “Select all matching” instead", ErrInvalid, MaxSelectIDs)
	}
	return out, nil
}

// SelectPeople adds people, by id, to the actor's selection and returns how
// many were not in it yet.
func (s *Service) SelectPeople(ctx context.Context, act Actor, ids []string) (int64, error) {
	ids, err := cleanIDs(ids)
	if err != nil {
		return 0, err
	}
	return s.DB.SelectUsers(ctx, act.AdminID, act.OrganizationID, ids)
}

// SelectGroups adds groups, by id, to the actor's selection and returns how
// many were not in it yet.
func (s *Service) SelectGroups(ctx context.Context, act Actor, ids []string) (int64, error) {
	ids, err := cleanIDs(ids)
	if err != nil {
		return 0, err
	}
	return s.DB.SelectGroups(ctx, act.AdminID, act.OrganizationID, ids)
}

// SelectMatching adds every person of a directory matching a list query's
// search and filters (not just the page shown) and returns how many were
// not in the selection yet.
func (s *Service) SelectMatching(ctx context.Context, act Actor, directoryID string, q ListQuery) (int64, error) {
	dir, st, err := s.visibleDirectory(ctx, act, directoryID)
	if err != nil {
		return 0, err
	}
	if q.Group != "" {
		g, err := s.DB.LiveGroup(ctx, q.Group)
		if errors.Is(err, db.ErrNotFound) || (err == nil && g.DirectoryID != dir.ID) {
			return 0, fmt.Errorf("%w: that group is not part of this directory", ErrInvalid)
		}
		if err != nil {
			return 0, err
		}
	}
	return s.DB.SelectMatchingUsers(ctx, act.AdminID, db.UserFilter{DirectoryID: dir.ID, GroupID: q.Group,
		State: q.State, Search: q.Q, FullText: st.SearchIndexed})
}

// Unselect removes people ("user") or groups ("group") from the actor's
// selection and returns how many were in it.
func (s *Service) Unselect(ctx context.Context, act Actor, kind string, ids []string) (int64, error) {
	if kind != db.SelectUser && kind != db.SelectGroup {
		return 0, fmt.Errorf("%w: unknown kind of item %q", ErrInvalid, kind)
	}
	ids, err := cleanIDs(ids)
	if err != nil {
		return 0, err
	}
	return s.DB.Unselect(ctx, act.AdminID, kind, ids)
}

// ClearSelection empties the actor's selection and returns how many items
// it held.
func (s *Service) ClearSelection(ctx context.Context, act Actor) (int64, error) {
	return s.DB.ClearSelection(ctx, act.AdminID)
}

// SelectionHeadcount is the number of distinct people the actor's selection
// stands for (people selected directly and members of selected groups,
// each counted once).
func (s *Service) SelectionHeadcount(ctx context.Context, act Actor) (int64, error) {
	if act.AdminID == 0 {
		return 0, nil
	}
	return s.DB.SelectionHeadcount(ctx, act.AdminID)
}

// SelectionUserLimit is how many directly selected people the selection
// page lists.
const SelectionUserLimit = 200

// SelectedPerson is a person in the selection.
type SelectedPerson struct {
	ID    string
	Name  string
	Email string
	State string
	Gone  bool // the directory deleted this person since
}

// SelectedGroup is a group in the selection.
type SelectedGroup struct {
	ID      string
	Name    string
	Members int64
	Gone    bool
}

// SelectionView is the actor's selection.
type SelectionView struct {
	Headcount   int64
	People      []SelectedPerson // the first SelectionUserLimit, by name
	PeopleTotal int64            // people selected directly
	Groups      []SelectedGroup
}

// Selection returns what the actor's selection holds.
func (s *Service) Selection(ctx context.Context, act Actor) (SelectionView, error) {
	var v SelectionView
	n, err := s.SelectionHeadcount(ctx, act)
	if err != nil {
		return v, err
	}
	v.Headcount = n
	list, err := s.DB.ListSelection(ctx, act.AdminID, SelectionUserLimit)
	if err != nil {
		return v, err
	}
	v.PeopleTotal = list.UsersTotal
	for _, u := range list.Users {
		v.People = append(v.People, SelectedPerson{ID: u.ID, Name: DisplayName(u.FirstName, u.LastName, u.Name, u.Email, u.ID),
			Email: u.Email, State: u.State, Gone: !u.Live})
	}
	for _, g := range list.Groups {
		name := g.Name
		if name == "" {
			name = g.ID
		}
		v.Groups = append(v.Groups, SelectedGroup{ID: g.ID, Name: name, Members: g.Members, Gone: !g.Live})
	}
	return v, nil
}
