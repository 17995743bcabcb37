package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/volcard/volcard/wire"
)

// OnsiteSessionFilter selects sessions in ListOnsiteSessions; zero fields
// do not filter.
type OnsiteSessionFilter struct {
	State  string // requested, scheduled, in_progress, completed or cancelled
	OrgID  int64  // sessions of this organisation's subtree
	Cursor string // NextCursor of the previous page
	Limit  int    // 1–200; 0: the server's default (50)
}

// MarkQueueEntry records a personalization outcome of a queue entry (the
// answer carries only the entry's fields, not its application's status).
func (c *Client) MarkQueueEntry(ctx context.Context, sessionID, entryID int64, m wire.QueueMark) (wire.QueueItem, error) {
	var q wire.QueueItem
	err := c.do(ctx, http.MethodPost, sessionPath(sessionID, "/queue/"+strconv.FormatInt(entryID, 10)), m, &q)
	return q, err
}

func sessionPath(id int64, rest string) string {
	return "/v1/onsite-sessions/" + strconv.FormatInt(id, 10) + rest
}

// RequestOnsiteSession asks for an on-site enrollment session.
func (c *Client) RequestOnsiteSession(ctx context.Context, in wire.NewOnsiteSession) (wire.OnsiteSession, error) {
	var s wire.OnsiteSession
	err := c.do(ctx, http.MethodPost, "/v1/onsite-sessions", in, &s)
	return s, err
}

// ListOnsiteSessions returns one page of the sessions in the caller's
// scope, newest first.
func (c *Client) ListOnsiteSessions(ctx context.Context, f OnsiteSessionFilter) (wire.OnsiteSessionPage, error) {
	q := url.Values{}
	if f.State != "" {
		q.Set("state", f.State)
	}
	if f.OrgID != 0 {
		q.Set("org", strconv.FormatInt(f.OrgID, 10))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/v1/onsite-sessions"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var p wire.OnsiteSessionPage
	err := c.do(ctx, http.MethodGet, path, nil, &p)
	return p, err
}

// OnsiteSession returns a session.
func (c *Client) OnsiteSession(ctx context.Context, id int64) (wire.OnsiteSession, error) {
	var s wire.OnsiteSession
	err := c.do(ctx, http.MethodGet, sessionPath(id, ""), nil, &s)
	return s, err
}

// TransitionOnsiteSession runs a state change: action is schedule, start,
// complete or cancel.
func (c *Client) TransitionOnsiteSession(ctx context.Context, id int64, action, reason string) (wire.OnsiteSession, error) {
	var s wire.OnsiteSession
	err := c.do(ctx, http.MethodPost, sessionPath(id, "/"+url.PathEscape(action)), wire.Decision{Reason: reason}, &s)
	return s, err
}

// ApproveOnsiteSession approves every accepted row's application.
func (c *Client) ApproveOnsiteSession(ctx context.Context, id int64) (wire.OnsiteApproval, error) {
	var a wire.OnsiteApproval
	err := c.do(ctx, http.MethodPost, sessionPath(id, "/approve"), wire.Decision{}, &a)
	return a, err
}

// OnsiteReport returns a session's counts.
func (c *Client) OnsiteReport(ctx context.Context, id int64) (wire.OnsiteReport, error) {
	var r wire.OnsiteReport
	err := c.do(ctx, http.MethodGet, sessionPath(id, "/report"), nil, &r)
	return r, err
}

// OnsiteQueue returns a session's personalization queue in roster order.
func (c *Client) OnsiteQueue(ctx context.Context, id int64) (wire.OnsiteQueue, error) {
	var q wire.OnsiteQueue
	err := c.do(ctx, http.MethodGet, sessionPath(id, "/queue"), nil, &q)
	return q, err
}

// UploadRoster sends a roster file (body, size bytes long, of media type
// contentType: text/csv or the XLSX type) as the raw request body and
// returns the row report. Wrap body to watch progress. The upload is
// idempotent: sending the same file again changes nothing.
func (c *Client) UploadRoster(ctx context.Context, id int64, body io.Reader, size int64, contentType string) (wire.RosterReport, error) {
	return c.UploadRosterMode(ctx, id, "", body, size, contentType)
}

// UploadRosterMode is UploadRoster saying what a new file does to a
// session that has a roster: mode "append" or "replace" ("" for the first
// roster or the same file again; the server answers 409 otherwise).
func (c *Client) UploadRosterMode(ctx context.Context, id int64, mode string, body io.Reader, size int64, contentType string) (wire.RosterReport, error) {
	var r wire.RosterReport
	path := sessionPath(id, "/roster")
	if mode != "" {
		path += "?mode=" + url.QueryEscape(mode)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+path, body)
	if err != nil {
		return r, fmt.Errorf("client: POST %s: %w", path, err)
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", contentType)
	if err := c.send(req, &r); err != nil {
		return r, err
	}
	return r, nil
}

// RejectedCSV downloads the rejected rows of the latest upload as CSV
// (encoding "" or "utf-8" with a BOM, or "gb18030") into w.
func (c *Client) RejectedCSV(ctx context.Context, id int64, encoding string, w io.Writer) error {
	path := sessionPath(id, "/rejected.csv")
	if encoding != "" {
		path += "?encoding=" + url.QueryEscape(encoding)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+path, nil)
	if err != nil {
		return fmt.Errorf("client: GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: GET %s: %v", ErrUnreachable, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return problem(res, b)
	}
	if _, err := io.Copy(w, res.Body); err != nil {
		return fmt.Errorf("%w: GET %s: %v", ErrUnreachable, path, err)
	}
	return nil
}

// send runs a prepared request and decodes a JSON answer (up to 64 MiB:
// a 20,000-row report) into out.
func (c *Client) send(req *http.Request, out any) error {
	res, err := c.http.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return req.Context().Err()
		}
		return fmt.Errorf("%w: %s %s: %v", ErrUnreachable, req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading the answer: %v", ErrUnreachable, req.Method, req.URL.Path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return problem(res, b)
	}
	return jsonUnmarshal(b, out, req)
}

func jsonUnmarshal(b []byte, out any, req *http.Request) error {
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: %s %s: decode answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}
