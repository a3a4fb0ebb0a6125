package dirsync

import (
	"context"
	"iter"
	"net/http"
)

// ListGroups returns one page of directory groups.
func (c *Client) ListGroups(ctx context.Context, o ListGroupsOptions) (Page[Group], error) {
	q := o.ListOptions.query()
	setIf(q, "directory", o.Directory)
	setIf(q, "user", o.User)
	var env listEnvelope[Group]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/directory_groups", query: q}, &env); err != nil {
		return Page[Group]{}, err
	}
	c.rememberGroups(env.Data)
	return env.page(), nil
}

// GetGroup returns one directory group.
func (c *Client) GetGroup(ctx context.Context, id string) (Group, error) {
	path, err := objectPath("GetGroup", "directory_groups", id)
	if err != nil {
		return Group{}, err
	}
	var g Group
	if err := c.do(ctx, request{method: http.MethodGet, path: path}, &g); err != nil {
		return Group{}, err
	}
	c.rememberGroups([]Group{g})
	return g, nil
}

// AllGroups walks every page of groups (see walk for the paging rules).
func (c *Client) AllGroups(ctx context.Context, o ListGroupsOptions) iter.Seq2[Group, error] {
	return walk(ctx, o.ListOptions, func(lo ListOptions) (Page[Group], error) {
		o.ListOptions = lo
		return c.ListGroups(ctx, o)
	})
}
