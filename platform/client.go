package platform

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/pii"
)

var _ platformlink.Registrar = (*Client)(nil)

// Config configures a Client. Zero values take the defaults given.
type Config struct {
	// BaseURL is the platform's base URL, https://… in production
	// (http:// is accepted for loopback simulators). Required.
	BaseURL string
	// Token is the bearer token the platform gave volcard. Required.
	Token string
	// Timeout bounds one call. Default 10 s.
	Timeout time.Duration
	// CAFile is a PEM file of the CA certificates that sign the platform's
	// certificate; empty uses the system's.
	CAFile string
	// HTTPClient replaces the client built from Timeout and CAFile.
	HTTPClient *http.Client
}

// Client calls the platform's registration API.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("platform: base URL must be https://host[:port][/path]")
	}
	if cfg.Token == "" {
		return nil, errors.New("platform: token required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("platform: CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("platform: CA file holds no PEM certificate")
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		hc = &http.Client{Timeout: cfg.Timeout, Transport: tr}
	}
	return &Client{base: u, token: cfg.Token, hc: hc}, nil
}

// Register implements platformlink.Registrar: POST /v1/registrations with
// the person, the idempotency key of its request id. 200 and 201 give the
// number; 408, 425, 429, 5xx and transport errors are passing errors;
// any other answer is a *platformlink.RefusedError. No error text holds
// the person's data.
func (c *Client) Register(ctx context.Context, p platformlink.Person) (string, bool, error) {
	body := Registration{RequestID: p.RequestID, Name: p.Name, IDType: string(p.IDType), IDNumber: p.IDNumber.Reveal(),
		Gender: string(p.Gender), Phone: p.Phone.Reveal(), Source: string(p.Source), OrgName: p.OrgName}
	if !p.BirthDate.IsZero() {
		body.BirthDate = p.BirthDate.Format(time.DateOnly)
	}
	j, err := json.Marshal(body)
	if err != nil {
		return "", false, fmt.Errorf("platform: encode registration %d: %w", p.RequestID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+RegistrationPath, bytes.NewReader(j))
	if err != nil {
		return "", false, fmt.Errorf("platform: registration %d: %w", p.RequestID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Idempotency-Key", IdempotencyKey(p.RequestID))
	res, err := c.hc.Do(req)
	if err != nil {
		// url.Error names the URL and the cause, never the body.
		return "", false, fmt.Errorf("platform: registration %d: %s", p.RequestID, pii.Scrub(err.Error()))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return "", false, fmt.Errorf("platform: registration %d: read answer: %w", p.RequestID, err)
	}
	a, err := DecodeAnswer(res.StatusCode, b)
	if err != nil {
		return "", false, fmt.Errorf("platform: registration %d: %w", p.RequestID, err)
	}
	switch s := res.StatusCode; {
	case s == http.StatusOK || s == http.StatusCreated:
		return a.Registered.VolunteerNumber, a.Registered.Matched, nil
	case Retried(s):
		return "", false, fmt.Errorf("platform: registration %d: %d %s %s", p.RequestID, s, a.Problem.Type,
			pii.Scrub(a.Problem.Detail))
	default:
		return "", false, &platformlink.RefusedError{Status: s, Code: a.Problem.Type, Reason: pii.Scrub(a.Problem.Detail)}
	}
}

// Retried reports whether an answer of this HTTP status is tried again
// later: 408, 425, 429, 5xx, and anything that is not 2xx or 4xx.
func Retried(status int) bool {
	switch {
	case status == 408 || status == 425 || status == 429:
		return true
	case status >= 400 && status < 500:
		return false
	case status >= 200 && status < 300:
		return false
	}
	return true
}
