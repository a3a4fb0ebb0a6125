package dirsync

import (
	"context"
	"iter"
	"net/http"
)

// ListDirectories returns one page of directories.
func (c *Client) ListDirectories(ctx context.Context, o ListDirectoriesOptions) (Page[Directory], error) {
	q := o.ListOptions.query()
	setIf(q, "organization_id", o.OrganizationID)
	setIf(q, "search", o.Search)
	var env listEnvelope[Directory]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/directories", query: q}, &env); err != nil {
		return Page[Directory]{}, err
	}
	return env.page(), nil
}

// GetDirectory returns one directory.
func (c *Client) GetDirectory(ctx context.Context, id string) (Directory, error) {
	path, err := objectPath("GetDirectory", "directories", id)
	if err != nil {
		return Directory{}, err
	}
	var d Directory
	err = c.do(ctx, request{method: http.MethodGet, path: path}, &d)
	return d, err
}

// DeleteDirectory deletes a directory. WorkOS answers 202 with a plain-text body.
func (c *Client) DeleteDirectory(ctx context.Context, id string) error {
	path, err := objectPath("DeleteDirectory", "directories", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: path}, nil)
}

// AllDirectories walks every page (see walk for the paging rules).
func (c *Client) AllDirectories(ctx context.Context, o ListDirectoriesOptions) iter.Seq2[Directory, error] {
	return walk(ctx, o.ListOptions, func(lo ListOptions) (Page[Directory], error) {
		o.ListOptions = lo
		return c.ListDirectories(ctx, o)
	})
}
