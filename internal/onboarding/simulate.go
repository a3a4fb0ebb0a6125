package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"roster/internal/db"
)

// SimEvent is a change the policy simulator can try on a person.
type SimEvent struct {
	Key, Label string
	NeedsGroup bool
	NeedsTitle bool
}

// SimEvents are the simulator's changes, in display order.
var SimEvents = []SimEvent{
	{Key: "deactivated", Label: "Deactivated in the directory"},
	{Key: "deleted", Label: "Deleted from the directory"},
	{Key: "reactivated", Label: "Active again (re-hired)"},
	{Key: "removed_from_group", Label: "Removed from group …", NeedsGroup: true},
	{Key: "added_to_group", Label: "Added to group …", NeedsGroup: true},
	{Key: "title_changed", Label: "Job title changed to …", NeedsTitle: true},
}

// SimulationInput is what the simulator form asks.
type SimulationInput struct {
	User    string // directory user id or email
	Event   string // a SimEvents key
	GroupID string
	Title   string
}

// Simulation is what a change would do to a person's account.
type Simulation struct {
	User       db.DirectoryUser
	Label      string // the person's name or email
	EventLabel string // the change, in words
	Account    *db.Account
	Effects    []Effect
}

// errSimulated rolls the simulator's transaction back.
var errSimulated = errors.New("simulation done")

// Simulate shows what a directory change would do to a person's account
// under the organisation's current policy, without doing it: the change is
// applied to the replica and the account in a transaction that runs the
// same code as the sync, and is then rolled back.
func (s *Service) Simulate(ctx context.Context, act Actor, orgID string, in SimulationInput) (Simulation, error) {
	org, _, err := s.settingsOrg(ctx, act, orgID)
	if err != nil {
		return Simulation{}, err
	}
	if org == "" {
		return Simulation{}, fmt.Errorf("%w: choose an organisation first", ErrInvalid)
	}
	in.User = strings.TrimSpace(in.User)
	if in.User == "" {
		return Simulation{}, fmt.Errorf("%w: enter the email or id of a person in the directory", ErrInvalid)
	}
	i := slices.IndexFunc(SimEvents, func(e SimEvent) bool { return e.Key == in.Event })
	if i < 0 {
		return Simulation{}, fmt.Errorf("%w: choose a change to simulate", ErrInvalid)
	}
	ev := SimEvents[i]
	u, err := s.DB.FindOrgUser(ctx, org, in.User)
	if errors.Is(err, db.ErrNotFound) {
		return Simulation{}, fmt.Errorf("%w: nobody in this organisation's directories has the email or id %q", ErrInvalid, in.User)
	}
	if err != nil {
		return Simulation{}, err
	}
	sim := Simulation{User: u, Label: personLabel(u), EventLabel: ev.Label}
	var groupName string
	if ev.NeedsGroup {
		gorg, err := s.DB.GroupOrganization(ctx, in.GroupID)
		if errors.Is(err, db.ErrNotFound) || (err == nil && gorg != org) {
			return Simulation{}, fmt.Errorf("%w: choose a group of this organisation", ErrInvalid)
		}
		if err != nil {
			return Simulation{}, err
		}
		groups, err := s.DB.UserGroupIDs(ctx, u.ID)
		if err != nil {
			return Simulation{}, err
		}
		member := slices.Contains(groups, in.GroupID)
		if ev.Key == "added_to_group" && member {
			return Simulation{}, fmt.Errorf("%w: %s is already a member of that group", ErrInvalid, sim.Label)
		}
		if ev.Key == "removed_from_group" && !member {
			return Simulation{}, fmt.Errorf("%w: %s is not a member of that group", ErrInvalid, sim.Label)
		}
	}
	title := strings.TrimSpace(in.Title)
	if ev.NeedsTitle {
		if title == "" || utf8.RuneCountInString(title) > 200 {
			return Simulation{}, fmt.Errorf("%w: enter the new job title (up to 200 characters)", ErrInvalid)
		}
		sim.EventLabel = "Job title changed to " + title
	}
	err = s.DB.Tx(ctx, func(tx db.Tx) error {
		e := s.newEffector(ctx, tx, "simulated", "simulator", SourceDirectory)
		if a, err := db.AccountByDirectoryUserTx(ctx, tx, u.ID); err == nil {
			sim.Account = &a
		} else if !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if ev.NeedsGroup {
			if groupName, err = db.GroupNameTx(ctx, tx, in.GroupID); err != nil {
				return err
			}
			groupName = firstNonEmpty(groupName, in.GroupID)
			if ev.Key == "added_to_group" {
				sim.EventLabel = "Added to group " + groupName
			} else {
				sim.EventLabel = "Removed from group " + groupName
			}
		}
		if err := s.simulateChange(e, u, ev.Key, in.GroupID, groupName, title); err != nil {
			return err
		}
		sim.Effects = e.out
		return errSimulated
	})
	if errors.Is(err, errSimulated) {
		err = nil
	}
	return sim, err
}

// simulateChange applies the change to the replica as the sync would, then
// runs the account rules on it.
func (s *Service) simulateChange(e *effector, u db.DirectoryUser, key, groupID, groupName, title string) error {
	w := s.DB.Replica(e.ctx, e.tx)
	next := u
	next.LastEventID = "simulated"
	// Newer than the stored row, so the guarded upsert takes it.
	next.UpdatedAt = u.UpdatedAt.Add(time.Millisecond)
	if e.now.After(next.UpdatedAt) {
		next.UpdatedAt = e.now
	}
	prev := u
	switch key {
	case "deactivated", "reactivated", "title_changed":
		switch key {
		case "deactivated":
			next.State = "inactive"
		case "reactivated":
			next.State = "active"
		default:
			ca := map[string]any{}
			if len(u.CustomAttributes) > 0 {
				if err := json.Unmarshal(u.CustomAttributes, &ca); err != nil || ca == nil {
					ca = map[string]any{}
				}
			}
			ca["job_title"] = title
			raw, err := json.Marshal(ca)
			if err != nil {
				return err
			}
			next.CustomAttributes, next.JobTitle = raw, title
		}
		if _, err := w.ApplyUserEvent(next, 0); err != nil {
			return err
		}
		return e.syncUser(u.ID, &prev)
	case "deleted":
		if _, err := w.DeleteUser(next, 0); err != nil {
			return err
		}
		return e.userGone(u.ID, "deleted in the directory")
	case "added_to_group", "removed_from_group":
		m := db.Membership{DirectoryID: u.DirectoryID, GroupID: groupID, UserID: u.ID,
			UserSortKey: db.UserSortKey(u.FirstName, u.LastName, u.Name, u.Email)}
		if key == "removed_from_group" {
			if _, err := w.RemoveMembership(m); err != nil {
				return err
			}
			return e.recomputeRole(u.ID, "removed from group "+groupName)
		}
		if _, err := w.AddMembership(m, 0); err != nil {
			return err
		}
		if err := e.recomputeRole(u.ID, "added to group "+groupName); err != nil {
			return err
		}
		return e.autoInvite(u.ID, groupID, groupName)
	}
	return fmt.Errorf("%w: unknown change %q", ErrInvalid, key)
}

func personLabel(u db.DirectoryUser) string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return firstNonEmpty(u.Name, u.Email, u.ID)
}
