package dirsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DsyncEventTypes lists every Directory Sync event name (dsync.deactivated no
// longer exists; the token events cannot be subscribed to via webhooks).
var DsyncEventTypes = []string{
	"dsync.activated",
	"dsync.deleted",
	"dsync.user.created",
	"dsync.user.updated",
	"dsync.user.deleted",
	"dsync.group.created",
	"dsync.group.updated",
	"dsync.group.deleted",
	"dsync.group.user_added",
	"dsync.group.user_removed",
	"dsync.token.created",
	"dsync.token.revoked",
}

// ErrUnknownEvent is returned by Event.Decode for an event name it does not model.
var ErrUnknownEvent = errors.New("dirsync: unknown event type")

// ListEventsOptions filters ListEvents. Events defaults to DsyncEventTypes,
// because WorkOS rejects a request without event names.
type ListEventsOptions struct {
	Events         []string
	After          string // event id cursor
	RangeStart     time.Time
	RangeEnd       time.Time
	OrganizationID string
	Limit          int // 1..100; 0 lets the server choose (10)
}

// EventPage is one page of events. After is "" when null.
type EventPage struct {
	Data  []Event
	After string
}

// Event is one entry of the Events API or one webhook body (which lacks "object").
type Event struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
	Context   map[string]any  `json:"context,omitempty"`
}

// UnmarshalJSON decodes an event envelope with a lenient created_at.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w eventWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = w.event()
	return nil
}

// eventWire mirrors Event with a lenient created_at and no UnmarshalJSON, so
// that a page of events decodes in one pass.
type eventWire struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	CreatedAt flexTime        `json:"created_at"`
	Data      json.RawMessage `json:"data"`
	Context   map[string]any  `json:"context,omitempty"`
}

func (w *eventWire) event() Event {
	return Event{ID: w.ID, Event: w.Event, CreatedAt: time.Time(w.CreatedAt), Data: w.Data, Context: w.Context}
}

// eventsEnvelope is the body of GET /events.
type eventsEnvelope struct {
	Data         []eventWire `json:"data"`
	ListMetadata *struct {
		After *string `json:"after"`
	} `json:"list_metadata"`
	Legacy *struct {
		After *string `json:"after"`
	} `json:"listMetadata"`
}

func (env *eventsEnvelope) page() EventPage {
	p := EventPage{Data: make([]Event, len(env.Data))}
	for i := range env.Data {
		p.Data[i] = env.Data[i].event()
	}
	meta := env.ListMetadata
	if meta == nil {
		meta = env.Legacy
	}
	if meta != nil && meta.After != nil {
		p.After = *meta.After
	}
	return p
}

// ParseEvent decodes a raw event, e.g. a verified webhook body.
func ParseEvent(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("dirsync: decode event: %w", err)
	}
	if e.ID == "" || e.Event == "" {
		return Event{}, errors.New("dirsync: decode event: missing id or event name")
	}
	return e, nil
}

// ListEvents returns one page of events. WorkOS returns events oldest first
// whatever the order parameter says, so the client sends order=asc to match
// (and to make an emulator that honours order behave like production).
func (c *Client) ListEvents(ctx context.Context, o ListEventsOptions) (EventPage, error) {
	names := o.Events
	if len(names) == 0 {
		names = DsyncEventTypes
	}
	q := make(map[string][]string)
	// One comma-joined value: the spec declares style form, explode false.
	q["events"] = []string{strings.Join(names, ",")}
	if o.After != "" {
		q["after"] = []string{o.After}
	}
	if !o.RangeStart.IsZero() {
		q["range_start"] = []string{o.RangeStart.UTC().Format(time.RFC3339Nano)}
	}
	if !o.RangeEnd.IsZero() {
		q["range_end"] = []string{o.RangeEnd.UTC().Format(time.RFC3339Nano)}
	}
	if o.OrganizationID != "" {
		q["organization_id"] = []string{o.OrganizationID}
	}
	if o.Limit > 0 {
		q["limit"] = []string{strconv.Itoa(o.Limit)}
	}
	q["order"] = []string{"asc"}
	var env eventsEnvelope
	if err := c.do(ctx, request{method: http.MethodGet, path: "/events", query: q}, &env); err != nil {
		return EventPage{}, err
	}
	return env.page(), nil
}

// DirectoryEvent is the data of dsync.activated and dsync.deleted.
type DirectoryEvent struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Type           string `json:"type"`
	Name           string `json:"name"`
	ExternalKey    string `json:"external_key"` // absent on dsync.deleted
	// State uses the EVENT vocabulary: active|validating|invalid_credentials|inactive|deleting.
	State     string    `json:"state"`
	Domains   []Domain  `json:"domains"` // absent on dsync.deleted
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Domain is an organization domain attached to a directory event.
type Domain struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

// Linked reports whether the directory is active ("active" in events, "linked" in REST).
func (d DirectoryEvent) Linked() bool { return linkedState(d.State) }

// UnmarshalJSON decodes directory event data with lenient timestamps.
func (d *DirectoryEvent) UnmarshalJSON(b []byte) error {
	type plain DirectoryEvent
	*d = DirectoryEvent{}
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

// UserEvent is the data of dsync.user.*; PreviousAttributes is set on updates.
type UserEvent struct {
	User
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

// UnmarshalJSON is needed because User's own method would otherwise be
// promoted and silently drop previous_attributes.
func (u *UserEvent) UnmarshalJSON(b []byte) error {
	var w userEventWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = w.userEvent()
	return nil
}

// userEventWire decodes user event data, previous_attributes included, in one pass.
type userEventWire struct {
	userWire
	PreviousAttributes map[string]any `json:"previous_attributes"`
}

func (w *userEventWire) userEvent() UserEvent {
	return UserEvent{User: w.user(), PreviousAttributes: w.PreviousAttributes}
}

// GroupEvent is the data of dsync.group.created/updated/deleted.
type GroupEvent struct {
	Group
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

// UnmarshalJSON keeps previous_attributes (see UserEvent.UnmarshalJSON).
func (g *GroupEvent) UnmarshalJSON(b []byte) error {
	var w groupEventWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*g = w.groupEvent()
	return nil
}

// groupEventWire decodes group event data in one pass (see userEventWire).
type groupEventWire struct {
	groupWire
	PreviousAttributes map[string]any `json:"previous_attributes"`
}

func (w *groupEventWire) groupEvent() GroupEvent {
	return GroupEvent{Group: w.group(), PreviousAttributes: w.PreviousAttributes}
}

// MembershipEvent is the data of dsync.group.user_added/user_removed.
type MembershipEvent struct {
	DirectoryID string `json:"directory_id"`
	User        User   `json:"user"`
	Group       Group  `json:"group"`
}

// membershipEventWire decodes membership event data in one pass.
type membershipEventWire struct {
	DirectoryID string    `json:"directory_id"`
	User        userWire  `json:"user"`
	Group       groupWire `json:"group"`
}

// TokenEvent is the data of dsync.token.created/revoked.
type TokenEvent struct {
	ID             string    `json:"id"`
	DirectoryID    string    `json:"directory_id"`
	OrganizationID string    `json:"organization_id"`
	TokenSuffix    string    `json:"token_suffix"`
	CreatedAt      time.Time `json:"created_at"`
}

// UnmarshalJSON decodes token event data with a lenient timestamp.
func (t *TokenEvent) UnmarshalJSON(b []byte) error {
	type plain TokenEvent
	*t = TokenEvent{}
	w := struct {
		*plain
		CreatedAt flexTime `json:"created_at"`
	}{plain: (*plain)(t)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	t.CreatedAt = time.Time(w.CreatedAt)
	return nil
}

// Decode returns the typed data of a dsync event: *DirectoryEvent,
// *UserEvent, *GroupEvent, *MembershipEvent or *TokenEvent. Unknown names
// (ErrUnknownEvent) and data that is not an object with the expected ids are
// errors.
func (e Event) Decode() (any, error) {
	data := bytes.TrimSpace(e.Data)
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("dirsync: event %s (%s): data is not a JSON object", e.ID, e.Event)
	}
	var (
		out     any
		missing string
		err     error
	)
	switch e.Event {
	case "dsync.activated", "dsync.deleted":
		v := &DirectoryEvent{}
		err, out = json.Unmarshal(data, v), v
		if v.ID == "" {
			missing = "id"
		}
	case "dsync.user.created", "dsync.user.updated", "dsync.user.deleted":
		var w userEventWire
		err = json.Unmarshal(data, &w)
		v := new(UserEvent)
		*v, out = w.userEvent(), v
		if v.ID == "" {
			missing = "id"
		}
	case "dsync.group.created", "dsync.group.updated", "dsync.group.deleted":
		var w groupEventWire
		err = json.Unmarshal(data, &w)
		v := new(GroupEvent)
		*v, out = w.groupEvent(), v
		if v.ID == "" {
			missing = "id"
		}
	case "dsync.group.user_added", "dsync.group.user_removed":
		var w membershipEventWire
		err = json.Unmarshal(data, &w)
		v := &MembershipEvent{DirectoryID: w.DirectoryID, User: w.User.user(), Group: w.Group.group()}
		out = v
		switch {
		case v.User.ID == "":
			missing = "user.id"
		case v.Group.ID == "":
			missing = "group.id"
		}
		if v.DirectoryID == "" {
			// Fall back to the members' own directory (both always carry one).
			v.DirectoryID = v.Group.DirectoryID
		}
	case "dsync.token.created", "dsync.token.revoked":
		v := &TokenEvent{}
		err, out = json.Unmarshal(data, v), v
		if v.ID == "" {
			missing = "id"
		}
	default:
		return nil, fmt.Errorf("%w %q (event %s)", ErrUnknownEvent, e.Event, e.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("dirsync: event %s (%s): %w", e.ID, e.Event, err)
	}
	if missing != "" {
		return nil, fmt.Errorf("dirsync: event %s (%s): data has no %s", e.ID, e.Event, missing)
	}
	return out, nil
}
