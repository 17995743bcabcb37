package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/volcard/volcard/wire"
)

// ActivityFilter selects activities in ListActivities; zero fields do not
// filter. From and To select the activities overlapping [From, To): with
// From alone, those still running or ahead at From (today's and upcoming
// ones with From at midnight).
type ActivityFilter struct {
	OrgID  int64     // activities of this organisation's subtree
	From   time.Time // only activities ending after From
	To     time.Time // only activities starting before To
	Cursor string    // NextCursor of the previous page
	Limit  int       // 1–200; 0: the server's default (50)
}

// ListActivities returns one page of the activities in the caller's scope,
// newest start first.
func (c *Client) ListActivities(ctx context.Context, f ActivityFilter) (wire.ActivityPage, error) {
	q := url.Values{}
	if f.OrgID != 0 {
		q.Set("org", strconv.FormatInt(f.OrgID, 10))
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339Nano))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/v1/activities"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var p wire.ActivityPage
	err := c.do(ctx, http.MethodGet, path, nil, &p)
	return p, err
}
