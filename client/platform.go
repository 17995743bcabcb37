package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/volcard/volcard/wire"
)

// ImportVolunteers sends one batch of the platform's volunteers (POST
// /v1/imports/volunteers). A batch sent again is answered from the
// server's record of it (Replayed) and never applied twice, so a batch
// whose answer was lost is simply sent again.
func (c *Client) ImportVolunteers(ctx context.Context, b wire.ImportVolunteersBatch) (wire.ImportBatchResult, error) {
	var out wire.ImportBatchResult
	err := c.do(ctx, http.MethodPost, "/v1/imports/volunteers", b, &out)
	return out, err
}

// ImportHours sends one batch of platform service hours (POST
// /v1/imports/hours), idempotent as ImportVolunteers.
func (c *Client) ImportHours(ctx context.Context, b wire.ImportHoursBatch) (wire.ImportBatchResult, error) {
	var out wire.ImportBatchResult
	err := c.do(ctx, http.MethodPost, "/v1/imports/hours", b, &out)
	return out, err
}

// ImportStatus returns the batches of an import committed so far (GET
// /v1/imports/{id}).
func (c *Client) ImportStatus(ctx context.Context, importID string) (wire.ImportStatus, error) {
	var out wire.ImportStatus
	err := c.do(ctx, http.MethodGet, "/v1/imports/"+url.PathEscape(importID), nil, &out)
	return out, err
}

// PlatformRequests lists registration requests (GET
// /v1/admin/platform-requests); state may be empty.
func (c *Client) PlatformRequests(ctx context.Context, state string, limit int, cursor string) (wire.PlatformRequestList, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var out wire.PlatformRequestList
	err := c.do(ctx, http.MethodGet, "/v1/admin/platform-requests?"+q.Encode(), nil, &out)
	return out, err
}

// RetryPlatformRequest sends a failed registration request again (POST
// /v1/admin/platform-requests/{id}/retry).
func (c *Client) RetryPlatformRequest(ctx context.Context, id int64, reason string) (wire.PlatformRequest, error) {
	var out wire.PlatformRequest
	err := c.do(ctx, http.MethodPost, "/v1/admin/platform-requests/"+strconv.FormatInt(id, 10)+"/retry",
		wire.PlatformRetry{Reason: reason}, &out)
	return out, err
}
