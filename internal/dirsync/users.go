package dirsync

import (
	"context"
	"iter"
	"net/http"
)

// getUserPaceKey is the directory bucket shared by GetUser calls: the user's
// directory is unknown before the answer, so they are paced together, which
// can only be slower than WorkOS's per-directory limit, never faster.
const getUserPaceKey = "directory_users:get"

// ListUsers returns one page of directory users. It is paced per directory
// (see Config.UsersRatePerDirectory).
func (c *Client) ListUsers(ctx context.Context, o ListUsersOptions) (Page[User], error) {
	q := o.ListOptions.query()
	setIf(q, "directory", o.Directory)
	setIf(q, "group", o.Group)
	setIf(q, "email", o.Email)
	setIf(q, "idp_id", o.IdpID)
	var env listEnvelope[User]
	r := request{method: http.MethodGet, path: "/directory_users", query: q, paceKey: c.usersPaceKey(o)}
	if err := c.do(ctx, r, &env); err != nil {
		return Page[User]{}, err
	}
	for _, u := range env.Data {
		c.rememberGroups(u.Groups)
	}
	return env.page(), nil
}

// usersPaceKey picks the per-directory bucket for a /directory_users list:
// the directory when given, else the group's directory if a groups response
// has revealed it, else a bucket of the group's own.
func (c *Client) usersPaceKey(o ListUsersOptions) string {
	switch {
	case o.Directory != "":
		return o.Directory
	case o.Group != "":
		if d := c.groupDirectory(o.Group); d != "" {
			return d
		}
		return "group:" + o.Group
	}
	return "directory_users:unscoped"
}

// GetUser returns one directory user (with the deprecated Groups).
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	path, err := objectPath("GetUser", "directory_users", id)
	if err != nil {
		return User{}, err
	}
	var u User
	if err := c.do(ctx, request{method: http.MethodGet, path: path, paceKey: getUserPaceKey}, &u); err != nil {
		return User{}, err
	}
	c.rememberGroups(u.Groups)
	return u, nil
}

// AllUsers walks every page of users (see walk for the paging rules).
func (c *Client) AllUsers(ctx context.Context, o ListUsersOptions) iter.Seq2[User, error] {
	return walk(ctx, o.ListOptions, func(lo ListOptions) (Page[User], error) {
		o.ListOptions = lo
		return c.ListUsers(ctx, o)
	})
}
