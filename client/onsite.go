package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Wire types of the on-site enrollment routes (/v1/onsite-sessions). The
// api package serves them; the enroll command uses them.

// NewOnsiteSession is the body of POST /v1/onsite-sessions.
type NewOnsiteSession struct {
	OrgID         int64  `json:"org_id"`
	Site          string `json:"site"`
	Date          string `json:"date"` // YYYY-MM-DD
	ExpectedCount int    `json:"expected_count"`
	Product       string `json:"product"`
}

// OnsiteBranch is the bank branch assigned to a session and its contact.
type OnsiteBranch struct {
	ID           int64  `json:"id"`
	Bank         string `json:"bank"`
	Name         string `json:"name"`
	ContactName  string `json:"contact_name"`
	ContactPhone string `json:"contact_phone"`
}

// OnsiteSession is an on-site enrollment session.
type OnsiteSession struct {
	ID            int64        `json:"id"`
	OrgID         int64        `json:"org_id"`
	CityID        int64        `json:"city_id"`
	Product       string       `json:"product"`
	Bank          string       `json:"bank"`
	Site          string       `json:"site"`
	Date          string       `json:"date"`
	ExpectedCount int          `json:"expected_count"`
	Status        string       `json:"status"`
	Reason        string       `json:"reason,omitempty"`
	Branch        OnsiteBranch `json:"branch"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
}

// OnsiteSessionItem is a session in GET /v1/onsite-sessions: the session
// (its branch without the contact) with its organisation's name and its
// roster figures.
type OnsiteSessionItem struct {
	OnsiteSession
	OrgName  string `json:"org_name"`
	Accepted int    `json:"accepted"` // roster rows stored
	Rejected int    `json:"rejected"` // rejected rows of the latest upload
}

// OnsiteSessionPage is one page of sessions, newest first.
type OnsiteSessionPage struct {
	Items      []OnsiteSessionItem `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// OnsiteSessionFilter selects sessions in ListOnsiteSessions; zero fields
// do not filter.
type OnsiteSessionFilter struct {
	State  string // requested, scheduled, in_progress, completed or cancelled
	OrgID  int64  // sessions of this organisation's subtree
	Cursor string // NextCursor of the previous page
	Limit  int    // 1–200; 0: the server's default (50)
}

// RowReason is why a roster row was rejected.
type RowReason struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// RosterRow is one row of a roster report.
type RosterRow struct {
	Line          int         `json:"line"`
	Status        string      `json:"status"` // accepted or rejected
	Existing      bool        `json:"existing,omitempty"`
	Name          string      `json:"name"`
	IDNumber      string      `json:"id_number"` // masked unless the role may see it
	Phone         string      `json:"phone"`
	VolunteerID   int64       `json:"volunteer_id,omitempty"`
	ApplicationID int64       `json:"application_id,omitempty"`
	NewVolunteer  bool        `json:"new_volunteer,omitempty"`
	Reasons       []RowReason `json:"reasons,omitempty"`
}

// RosterReport is the answer of a roster upload.
type RosterReport struct {
	SessionID     int64       `json:"session_id"`
	UploadID      int64       `json:"upload_id"`
	SHA256        string      `json:"sha256"`
	Format        string      `json:"format"`
	Encoding      string      `json:"encoding"`
	Repeated      bool        `json:"repeated"`
	Rows          int         `json:"rows"`
	Accepted      int         `json:"accepted"`
	Stored        int         `json:"stored"`
	AlreadyStored int         `json:"already_stored"`
	Rejected      int         `json:"rejected"`
	BlankRows     int         `json:"blank_rows"`
	RejectedURL   string      `json:"rejected_url,omitempty"`
	Items         []RosterRow `json:"items"`
}

// OnsiteApproval is the answer of POST /v1/onsite-sessions/{id}/approve.
type OnsiteApproval struct {
	SessionID int64 `json:"session_id"`
	Approved  int   `json:"approved"`
	Sent      int   `json:"sent"`
}

// OnsiteReport is a session's counts.
type OnsiteReport struct {
	SessionID    int64  `json:"session_id"`
	Status       string `json:"status"`
	Requested    int    `json:"requested"`
	Accepted     int    `json:"accepted"`
	Rejected     int    `json:"rejected"`
	Submitted    int    `json:"submitted"`
	Approved     int    `json:"approved"`
	Sent         int    `json:"sent"`
	BankApproved int    `json:"bank_approved"`
	BankDeclined int    `json:"bank_declined"`
	Personalized int    `json:"personalized"`
	Failed       int    `json:"failed"`
	Cancelled    int    `json:"cancelled"`
}

// QueueItem is one entry of a session's batch personalization queue.
type QueueItem struct {
	Position          int    `json:"position"`
	EntryID           int64  `json:"entry_id"`
	ApplicationID     int64  `json:"application_id"`
	ApplicationNumber string `json:"application_number"`
	VolunteerID       int64  `json:"volunteer_id"`
	Name              string `json:"name"`
	EmbossName        string `json:"emboss_name"`
	Status            string `json:"status"`      // the application's status
	Personalize       string `json:"personalize"` // pending, personalized, failed, skipped
	Attempts          int    `json:"attempts"`
	Note              string `json:"note,omitempty"`
}

// OnsiteQueue is the answer of GET /v1/onsite-sessions/{id}/queue.
type OnsiteQueue struct {
	SessionID int64       `json:"session_id"`
	Items     []QueueItem `json:"items"`
}

// QueueMark is the body of POST /v1/onsite-sessions/{id}/queue/{entry}.
type QueueMark struct {
	State string `json:"state"` // pending, personalized, failed or skipped
	Note  string `json:"note,omitempty"`
}

// MarkQueueEntry records a personalization outcome of a queue entry (the
// answer carries only the entry's fields, not its application's status).
func (c *Client) MarkQueueEntry(ctx context.Context, sessionID, entryID int64, m QueueMark) (QueueItem, error) {
	var q QueueItem
	err := c.do(ctx, http.MethodPost, sessionPath(sessionID, "/queue/"+strconv.FormatInt(entryID, 10)), m, &q)
	return q, err
}

func sessionPath(id int64, rest string) string {
	return "/v1/onsite-sessions/" + strconv.FormatInt(id, 10) + rest
}

// RequestOnsiteSession asks for an on-site enrollment session.
func (c *Client) RequestOnsiteSession(ctx context.Context, in NewOnsiteSession) (OnsiteSession, error) {
	var s OnsiteSession
	err := c.do(ctx, http.MethodPost, "/v1/onsite-sessions", in, &s)
	return s, err
}

// ListOnsiteSessions returns one page of the sessions in the caller's
// scope, newest first.
func (c *Client) ListOnsiteSessions(ctx context.Context, f OnsiteSessionFilter) (OnsiteSessionPage, error) {
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
	var p OnsiteSessionPage
	err := c.do(ctx, http.MethodGet, path, nil, &p)
	return p, err
}

// OnsiteSession returns a session.
func (c *Client) OnsiteSession(ctx context.Context, id int64) (OnsiteSession, error) {
	var s OnsiteSession
	err := c.do(ctx, http.MethodGet, sessionPath(id, ""), nil, &s)
	return s, err
}

// TransitionOnsiteSession runs a state change: action is schedule, start,
// complete or cancel.
func (c *Client) TransitionOnsiteSession(ctx context.Context, id int64, action, reason string) (OnsiteSession, error) {
	var s OnsiteSession
	err := c.do(ctx, http.MethodPost, sessionPath(id, "/"+url.PathEscape(action)), struct {
		Reason string `json:"reason,omitempty"`
	}{reason}, &s)
	return s, err
}

// ApproveOnsiteSession approves every accepted row's application.
func (c *Client) ApproveOnsiteSession(ctx context.Context, id int64) (OnsiteApproval, error) {
	var a OnsiteApproval
	err := c.do(ctx, http.MethodPost, sessionPath(id, "/approve"), struct{}{}, &a)
	return a, err
}

// OnsiteReport returns a session's counts.
func (c *Client) OnsiteReport(ctx context.Context, id int64) (OnsiteReport, error) {
	var r OnsiteReport
	err := c.do(ctx, http.MethodGet, sessionPath(id, "/report"), nil, &r)
	return r, err
}

// OnsiteQueue returns a session's personalization queue in roster order.
func (c *Client) OnsiteQueue(ctx context.Context, id int64) (OnsiteQueue, error) {
	var q OnsiteQueue
	err := c.do(ctx, http.MethodGet, sessionPath(id, "/queue"), nil, &q)
	return q, err
}

// UploadRoster sends a roster file (body, size bytes long, of media type
// contentType: text/csv or the XLSX type) as the raw request body and
// returns the row report. Wrap body to watch progress. The upload is
// idempotent: sending the same file again changes nothing.
func (c *Client) UploadRoster(ctx context.Context, id int64, body io.Reader, size int64, contentType string) (RosterReport, error) {
	var r RosterReport
	path := sessionPath(id, "/roster")
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
