package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/wire"
)

// Errors.
var (
	// ErrUnreachable means no HTTP answer came back: connection refused,
	// DNS failure, timeout, connection reset. The request may or may not
	// have reached the server; retry with the same idempotency data.
	ErrUnreachable = errors.New("client: server unreachable")
	// ErrServer matches a *ProblemError with a 5xx status: the server is up
	// but could not answer; retry later.
	ErrServer = errors.New("client: server error")
)

// ProblemError is an application/problem+json answer (or any non-2xx
// answer). Type is the last segment of the problem type URI, e.g.
// "card-not-genuine".
type ProblemError struct {
	Status    int
	Type      string
	Title     string
	Detail    string
	RequestID string
}

// Error implements error.
func (e *ProblemError) Error() string {
	s := fmt.Sprintf("client: %d %s", e.Status, e.Type)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is makes errors.Is(err, ErrServer) true for 5xx answers.
func (e *ProblemError) Is(target error) bool { return target == ErrServer && e.Status >= 500 }

// Retryable reports whether err means the request should be retried later
// (unreachable server, 5xx answer, rate limiting).
func Retryable(err error) bool {
	var pe *ProblemError
	return errors.Is(err, ErrUnreachable) || errors.Is(err, ErrServer) ||
		(errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests)
}

// ProblemType returns the problem type of err ("" when err is not a
// *ProblemError).
func ProblemType(err error) string {
	var pe *ProblemError
	if errors.As(err, &pe) {
		return pe.Type
	}
	return ""
}

// Client calls the volcard HTTP API with a bearer token. It is safe for
// concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient sets the HTTP client (default: a client with a 10 s
// timeout).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) error {
		if h == nil {
			return errors.New("client: nil http client")
		}
		c.http = h
		return nil
	}
}

// New returns a client for the server at baseURL (e.g.
// "https://volcard.example") using token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("client: server URL must be http(s)://host[:port]")
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("client: empty token")
	}
	c := &Client{base: u, token: strings.TrimSpace(token), http: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// do sends a JSON request and decodes a JSON answer into out (may be nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s %s: %v", ErrUnreachable, method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading the answer: %v", ErrUnreachable, method, path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return problem(res, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("client: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func problem(res *http.Response, b []byte) error {
	var p wire.Problem
	_ = json.Unmarshal(b, &p)
	pe := &ProblemError{Status: res.StatusCode, Title: p.Title, Detail: p.Detail, RequestID: p.RequestID}
	if i := strings.LastIndexByte(p.Type, '/'); i >= 0 {
		pe.Type = p.Type[i+1:]
	} else {
		pe.Type = p.Type
	}
	if pe.Type == "" {
		pe.Type = strings.ToLower(strings.ReplaceAll(http.StatusText(res.StatusCode), " ", "-"))
	}
	return pe
}

// Ready asks the server whether it is up and can serve requests (GET
// /readyz, no token needed): nil when it can; ErrUnreachable when no
// answer came; a *ProblemError (503) when it is up but not ready, e.g.
// without its database. Client commands call it before asking for a card.
func (c *Client) Ready(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil)
}

// Challenge asks for a fresh DDA challenge (role terminal).
func (c *Client) Challenge(ctx context.Context) (wire.Challenge, error) {
	var ch wire.Challenge
	err := c.do(ctx, http.MethodPost, "/v1/terminals/challenge", struct{}{}, &ch)
	return ch, err
}

// TerminalState asks what a terminal checks at start (role terminal): the
// highest tap sequence number of its token and, with activityID > 0, that
// activity (a 404 *ProblemError when it is unknown or out of scope).
func (c *Client) TerminalState(ctx context.Context, activityID int64) (wire.TerminalState, error) {
	path := "/v1/terminals/self"
	if activityID > 0 {
		path += "?activity=" + strconv.FormatInt(activityID, 10)
	}
	var st wire.TerminalState
	err := c.do(ctx, http.MethodGet, path, nil, &st)
	return st, err
}

// Tap posts a tap at an activity (role terminal).
func (c *Client) Tap(ctx context.Context, activityID int64, req wire.TapRequest) (wire.TapResult, error) {
	var r wire.TapResult
	err := c.do(ctx, http.MethodPost, "/v1/activities/"+strconv.FormatInt(activityID, 10)+"/taps", req, &r)
	return r, err
}

// CreateActivity creates an activity.
func (c *Client) CreateActivity(ctx context.Context, in wire.NewActivity) (wire.Activity, error) {
	var a wire.Activity
	err := c.do(ctx, http.MethodPost, "/v1/activities", in, &a)
	return a, err
}

// Activity returns an activity.
func (c *Client) Activity(ctx context.Context, id int64) (wire.Activity, error) {
	var a wire.Activity
	err := c.do(ctx, http.MethodGet, "/v1/activities/"+strconv.FormatInt(id, 10), nil, &a)
	return a, err
}

// ServiceRecord returns a volunteer's service record.
func (c *Client) ServiceRecord(ctx context.Context, volunteerID int64) (wire.ServiceRecord, error) {
	var r wire.ServiceRecord
	err := c.do(ctx, http.MethodGet, "/v1/volunteers/"+strconv.FormatInt(volunteerID, 10)+"/service-record", nil, &r)
	return r, err
}

// CheckBenefits asks for a card holder's tier and offers (merchants).
func (c *Client) CheckBenefits(ctx context.Context, in wire.BenefitsRequest) (wire.Benefits, error) {
	var b wire.Benefits
	err := c.do(ctx, http.MethodPost, "/v1/benefits/check", in, &b)
	return b, err
}
