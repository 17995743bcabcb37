package feed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/volcard/volcard/issuance"
)

// Subjects: the kind of object an event is about (Event.Subject.Type).
const (
	SubjectApplication   = "application"
	SubjectCard          = "card"
	SubjectVolunteer     = "volunteer"
	SubjectAttendance    = "attendance"
	SubjectOnsiteSession = "onsite_session"
	// SubjectInsuranceEnrolment is a holder's insurance cover (one
	// enrolment from the activation of their card to its end).
	SubjectInsuranceEnrolment = "insurance_enrolment"
	// SubjectRebateStatement is one organisation's donation-rebate
	// statement of a month.
	SubjectRebateStatement = "rebate_statement"
)

// Event types written today (docs/platform-interface.md lists each with its
// payload). Application types are "application." + the status entered
// (application.submitted … application.activated, application.cancelled),
// and application.noted for an event that keeps the status (a bank request
// given up for an operator).
const (
	TypeApplicationSubmitted = "application.submitted"
	TypeApplicationNoted     = "application.noted"
	TypeCardIssued           = "card.issued"
	TypeCardActivated        = "card.activated"
	TypeCardBlocked          = "card.blocked"
	TypeCardUnblocked        = "card.unblocked"
	TypeCardReplaced         = "card.replaced"
	TypeCardClosed           = "card.closed"
	TypeCardExpired          = "card.expired"
	// TypeCardRenewalRequested and TypeCardCloseRequested: a renewal or a
	// closing asked for and sent to the bank; TypeCardRenewed: the bank
	// renewed the card (same PAN, or a new card); TypeCardChangeRefused:
	// the bank refused a change (data.change says which).
	TypeCardRenewalRequested = "card.renewal_requested"
	TypeCardCloseRequested   = "card.close_requested"
	TypeCardRenewed          = "card.renewed"
	TypeCardChangeRefused    = "card.change_refused"
	// TypeCardSpendingRecorded: the bank advised a purchase, refund or
	// reversal with the card (data.kind); no amount, no merchant.
	TypeCardSpendingRecorded = "card.spending_recorded"
	// TypeVolunteerUpdated: staff edited a volunteer, or the platform's
	// number was written back (data.fields names what changed).
	TypeVolunteerUpdated = "volunteer.updated"
	// TypeInsuranceEnrolled and TypeInsuranceEnded: a holder's cover
	// started (the card's activation) or ended (expiry, closing).
	TypeInsuranceEnrolled = "insurance.enrolled"
	TypeInsuranceEnded    = "insurance.ended"
	// TypeRebateStatementGenerated: a month's statement of an
	// organisation was generated.
	TypeRebateStatementGenerated = "rebate_statement.generated"
	TypeVolunteerCreated         = "volunteer.created"
	TypeTapRecorded              = "checkin.tap_recorded"
	TypeAttendanceCorrected      = "checkin.attendance_corrected"
	TypeSessionRequested         = "onsite_session.requested"
	TypeSessionScheduled         = "onsite_session.scheduled"
	TypeSessionStarted           = "onsite_session.started"
	TypeSessionCompleted         = "onsite_session.completed"
	TypeSessionCancelled         = "onsite_session.cancelled"
)

// typePattern is the shape of every event type: a subject, a dot, a verb.
var typePattern = regexp.MustCompile(`^(application|card|volunteer|checkin|onsite_session|insurance|rebate_statement)\.[a-z][a-z_]{1,40}$`)

// ValidType reports whether t has the shape of an event type (a known
// subject and a lower-case verb). Types added by later features pass
// without a change here.
func ValidType(t string) bool { return typePattern.MatchString(t) }

// Subject names the object an event is about.
type Subject struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

// Event is one change, as the feed and the webhooks show it. ID is stable
// and unique; Data is the type's payload (a JSON object).
type Event struct {
	ID      int64           `json:"id"`
	Type    string          `json:"type"`
	Subject Subject         `json:"subject"`
	At      time.Time       `json:"created_at"`
	Data    json.RawMessage `json:"data"`
	// Cursor is the feed position just after this event.
	Cursor Cursor `json:"-"`
}

// Cursor is a position in the feed: after the event with ID in the
// transaction TX (0 on SQLite). Its text form is opaque to clients.
type Cursor struct {
	TX uint64
	ID int64
}

const cursorPrefix = "c1."

// String encodes c for clients ("" for the start of the feed).
func (c Cursor) String() string {
	if c == (Cursor{}) {
		return ""
	}
	raw := strconv.FormatUint(c.TX, 10) + "." + strconv.FormatInt(c.ID, 10)
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ErrBadCursor means a cursor was not one the feed handed out.
var ErrBadCursor = errors.New("bad cursor")

// ParseCursor decodes a cursor from Cursor.String; "" is the start.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	if len(s) > 64 || !strings.HasPrefix(s, cursorPrefix) {
		return Cursor{}, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s[len(cursorPrefix):])
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	txs, ids, ok := strings.Cut(string(raw), ".")
	if !ok {
		return Cursor{}, ErrBadCursor
	}
	tx, err := strconv.ParseUint(txs, 10, 64)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	id, err := strconv.ParseInt(ids, 10, 64)
	if err != nil || id < 0 {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{TX: tx, ID: id}, nil
}

// Query is a read of the feed: events after After, of Types (empty: all),
// inside Scope, at most Limit.
type Query struct {
	After Cursor
	Types []string
	Scope issuance.Scope
	Limit int
}

// Page is one read of the feed. Next is where the next read starts: the
// last event's cursor, or the query's when no event was returned.
type Page struct {
	Events []Event
	Next   Cursor
}

// Endpoint is a webhook endpoint. ScopePath and BankCode are the creating
// token's scope: only events inside it are delivered. Types empty means
// every type.
type Endpoint struct {
	ID          int64
	URL         string
	Description string
	Types       []string
	ScopePath   string
	BankCode    string
	// CreatedBy is the token that created the endpoint (0: the system);
	// the endpoint is disabled when that token is revoked
	// (DisabledTokenRevoked) or has expired (DisabledTokenExpired).
	CreatedBy      int64
	Enabled        bool
	DisabledReason string
	// Failures counts failed attempts since the last success; FailingSince
	// is the first of them (zero when none).
	Failures     int
	FailingSince time.Time
	SecretSealed []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event queued for one endpoint, and the log of its
// attempts so far.
type Delivery struct {
	ID           int64
	EndpointID   int64
	EventID      int64
	EventType    string
	State        string
	Attempts     int
	NextAt       time.Time
	LastStatus   int
	LastError    string
	CreatedAt    time.Time
	DeliveredAt  time.Time
	RedeliveryOf int64
}

// DeliveryQuery pages an endpoint's deliveries, newest first.
type DeliveryQuery struct {
	EndpointID int64
	State      string
	BeforeID   int64
	Limit      int
}

// Store is the storage the feed needs; issuance/store implements it.
type Store interface {
	issuance.Transactor
	// ListFeed returns the events of q in feed order. On PostgreSQL it
	// returns only events of transactions older than every transaction
	// still running, so that a later read never finds an event before the
	// cursor it was given.
	ListFeed(ctx context.Context, q Query) (Page, error)
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	GetEndpoint(ctx context.Context, id int64) (Endpoint, error)
	ListEndpoints(ctx context.Context) ([]Endpoint, error)
	// UpdateEndpoint writes URL, Description, Types, Enabled and
	// DisabledReason; enabling resets the failure count.
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	DeleteEndpoint(ctx context.Context, id int64) error
	ListDeliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error)
	GetDelivery(ctx context.Context, id int64) (Delivery, error)
	// Redeliver queues the delivery's event again for its endpoint, due
	// now, as a new delivery (the old one stays in the log).
	Redeliver(ctx context.Context, id int64, now time.Time) (Delivery, error)
}

// Sealer seals endpoint secrets (issuance.Service with its pii keys).
type Sealer interface {
	Seal(purpose, value string) ([]byte, error)
}

// PurposeSecret is the pii purpose endpoint secrets are sealed under.
const PurposeSecret = "webhook-secret"

// Page sizes of List and Deliveries.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
	// MaxEndpoints bounds the endpoints of the whole service: each adds a
	// row to every matching event's transaction.
	MaxEndpoints = 200
)

// Service reads the feed and manages webhook endpoints.
type Service struct {
	svc   *issuance.Service
	st    Store
	now   func() time.Time
	addrs AddrPolicy
}

// Option configures a Service.
type Option func(*Service) error

// WithAddrPolicy sets which literal IP addresses endpoint URLs may name;
// default none of the Internal ones.
func WithAddrPolicy(p AddrPolicy) Option {
	return func(s *Service) error { s.addrs = p; return nil }
}

// New returns a Service over the core service and st.
func New(svc *issuance.Service, st Store, opts ...Option) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("feed: nil service or store")
	}
	s := &Service{svc: svc, st: st, now: time.Now}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// allowed are the roles of the feed and the endpoints; terminals see none.
var allowed = []issuance.Role{issuance.RoleProvinceAdmin, issuance.RolePlatform, issuance.RoleOrgAdmin,
	issuance.RoleBankStaff, issuance.RoleSystem}

// scope is the actor's feed scope: the organisation subtree and the bank
// (an event without a bank, such as volunteer.created or a tap, is not a
// bank's to see).
func (s *Service) scope(ctx context.Context, a issuance.Actor) (issuance.Scope, error) {
	if err := issuance.RequireRole(a, allowed...); err != nil {
		return issuance.Scope{}, err
	}
	return s.svc.Scope(ctx, a)
}

// List reads the feed after the cursor text after, of types (empty: all),
// within the actor's scope.
func (s *Service) List(ctx context.Context, a issuance.Actor, after string, types []string, limit int) (Page, error) {
	sc, err := s.scope(ctx, a)
	if err != nil {
		return Page{}, err
	}
	c, err := ParseCursor(after)
	if err != nil {
		return Page{}, issuance.Invalid("after", "not a cursor this feed handed out")
	}
	if err := checkTypes(types); err != nil {
		return Page{}, err
	}
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return Page{}, issuance.Invalid("limit", fmt.Sprintf("between 1 and %d", MaxLimit))
	}
	p, err := s.st.ListFeed(ctx, Query{After: c, Types: types, Scope: sc, Limit: limit})
	if err != nil {
		return Page{}, fmt.Errorf("read feed: %w", err)
	}
	return p, nil
}

func checkTypes(types []string) error {
	if len(types) > 50 {
		return issuance.Invalid("types", "at most 50 types")
	}
	for _, t := range types {
		if !ValidType(t) {
			return issuance.Invalid("types", "unknown event type (want e.g. application.submitted)")
		}
	}
	return nil
}

// The disabled_reason of an endpoint whose creating token ended.
const (
	DisabledTokenRevoked = "token revoked"
	DisabledTokenExpired = "token expired"
)

// NewEndpoint is the input of CreateEndpoint.
type NewEndpoint struct {
	URL         string
	Description string
	Types       []string
}

// CheckURL validates an endpoint URL: absolute http or https with a host,
// no user or password in it, no fragment, at most 2,000 bytes, and a
// host that is not an IP address the policy refuses (a name is judged
// after resolution, by the webhook worker's dialer, so that a name
// pointed at an internal address later is refused too). Reasons never
// repeat the URL (it may carry a secret).
func CheckURL(raw string, p AddrPolicy) error {
	if raw == "" || len(raw) > 2000 || !utf8.ValidString(raw) {
		return issuance.Invalid("url", "required, at most 2000 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return issuance.Invalid("url", "not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return issuance.Invalid("url", "scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return issuance.Invalid("url", "host required")
	case u.User != nil:
		return issuance.Invalid("url", "credentials in the URL are not allowed; the signature authenticates us")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return issuance.Invalid("url", "no fragment")
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !p.Permits(ip) {
		return issuance.Invalid("url", "address not allowed: loopback, private, link-local and similar internal addresses are refused")
	}
	return nil
}

func normTypes(types []string) ([]string, error) {
	if err := checkTypes(types); err != nil {
		return nil, err
	}
	out := slices.Clone(types)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// NewSecret returns a fresh endpoint secret: "whsec_" and 32 random bytes
// in base64url.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("endpoint secret: %w", err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// CreateEndpoint registers an endpoint in the actor's scope and returns it
// with its secret, which is shown this once (it is stored sealed).
func (s *Service) CreateEndpoint(ctx context.Context, a issuance.Actor, in NewEndpoint) (Endpoint, string, error) {
	sc, err := s.scope(ctx, a)
	if err != nil {
		return Endpoint{}, "", err
	}
	if err := CheckURL(in.URL, s.addrs); err != nil {
		return Endpoint{}, "", err
	}
	in.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(in.Description) > 200 || !utf8.ValidString(in.Description) {
		return Endpoint{}, "", issuance.Invalid("description", "at most 200 characters")
	}
	types, err := normTypes(in.Types)
	if err != nil {
		return Endpoint{}, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	sealed, err := s.svc.Seal(PurposeSecret, secret)
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("seal endpoint secret: %w", err)
	}
	now := s.now().UTC()
	e := Endpoint{URL: in.URL, Description: in.Description, Types: types, ScopePath: sc.PathPrefix,
		BankCode: sc.BankCode, CreatedBy: a.TokenID, Enabled: true, SecretSealed: sealed, CreatedAt: now, UpdatedAt: now}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		all, err := s.st.ListEndpoints(ctx)
		if err != nil {
			return err
		}
		if len(all) >= MaxEndpoints {
			return &issuance.ConflictError{What: "endpoint_limit"}
		}
		return s.st.CreateEndpoint(ctx, &e)
	})
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("create endpoint: %w", err)
	}
	return e, secret, nil
}

// visible reports whether an endpoint lies inside the actor's scope: its
// own scope is the actor's or narrower.
func visible(e Endpoint, sc issuance.Scope) bool {
	if sc.PathPrefix != "" && !strings.HasPrefix(e.ScopePath, sc.PathPrefix) {
		return false
	}
	return sc.BankCode == "" || e.BankCode == sc.BankCode
}

// Endpoints lists the endpoints inside the actor's scope, by id.
func (s *Service) Endpoints(ctx context.Context, a issuance.Actor) ([]Endpoint, error) {
	sc, err := s.scope(ctx, a)
	if err != nil {
		return nil, err
	}
	all, err := s.st.ListEndpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	out := all[:0]
	for _, e := range all {
		if visible(e, sc) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Endpoint returns one endpoint inside the actor's scope (else ErrNotFound).
func (s *Service) Endpoint(ctx context.Context, a issuance.Actor, id int64) (Endpoint, error) {
	sc, err := s.scope(ctx, a)
	if err != nil {
		return Endpoint{}, err
	}
	e, err := s.st.GetEndpoint(ctx, id)
	if err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %d: %w", id, err)
	}
	if !visible(e, sc) {
		return Endpoint{}, fmt.Errorf("endpoint %d: %w", id, issuance.ErrNotFound)
	}
	return e, nil
}

// EndpointChange is the input of UpdateEndpoint; nil fields are kept.
type EndpointChange struct {
	URL         *string
	Description *string
	Types       *[]string
}

// UpdateEndpoint changes an endpoint's URL, description or types.
func (s *Service) UpdateEndpoint(ctx context.Context, a issuance.Actor, id int64, ch EndpointChange) (Endpoint, error) {
	return s.change(ctx, a, id, func(e *Endpoint) error {
		if ch.URL != nil {
			if err := CheckURL(*ch.URL, s.addrs); err != nil {
				return err
			}
			e.URL = *ch.URL
		}
		if ch.Description != nil {
			d := strings.TrimSpace(*ch.Description)
			if utf8.RuneCountInString(d) > 200 || !utf8.ValidString(d) {
				return issuance.Invalid("description", "at most 200 characters")
			}
			e.Description = d
		}
		if ch.Types != nil {
			t, err := normTypes(*ch.Types)
			if err != nil {
				return err
			}
			e.Types = t
		}
		return nil
	})
}

// Enable turns a disabled endpoint back on (its failure count reset); the
// deliveries queued meanwhile are then sent in order.
func (s *Service) Enable(ctx context.Context, a issuance.Actor, id int64) (Endpoint, error) {
	return s.change(ctx, a, id, func(e *Endpoint) error {
		e.Enabled, e.DisabledReason = true, ""
		return nil
	})
}

func (s *Service) change(ctx context.Context, a issuance.Actor, id int64, fn func(e *Endpoint) error) (Endpoint, error) {
	var out Endpoint
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		e, err := s.Endpoint(ctx, a, id)
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		e.UpdatedAt = s.now().UTC()
		if err := s.st.UpdateEndpoint(ctx, &e); err != nil {
			return err
		}
		out, err = s.st.GetEndpoint(ctx, id)
		return err
	})
	if err != nil {
		return Endpoint{}, fmt.Errorf("update endpoint %d: %w", id, err)
	}
	return out, nil
}

// DeleteEndpoint removes an endpoint and its delivery log.
func (s *Service) DeleteEndpoint(ctx context.Context, a issuance.Actor, id int64) error {
	return s.st.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Endpoint(ctx, a, id); err != nil {
			return err
		}
		return s.st.DeleteEndpoint(ctx, id)
	})
}

// Deliveries lists an endpoint's deliveries (the delivery log), newest
// first.
func (s *Service) Deliveries(ctx context.Context, a issuance.Actor, q DeliveryQuery) ([]Delivery, error) {
	if _, err := s.Endpoint(ctx, a, q.EndpointID); err != nil {
		return nil, err
	}
	switch q.State {
	case "", DeliveryPending, DeliveryDelivered, DeliveryFailed:
	default:
		return nil, issuance.Invalid("state", "pending, delivered or failed")
	}
	switch {
	case q.Limit == 0:
		q.Limit = issuance.DefaultPageSize
	case q.Limit < 0 || q.Limit > issuance.MaxPageSize:
		return nil, issuance.Invalid("limit", fmt.Sprintf("between 1 and %d", issuance.MaxPageSize))
	}
	return s.st.ListDeliveries(ctx, q)
}

// Redeliver queues a delivery's event again for its endpoint, due now.
func (s *Service) Redeliver(ctx context.Context, a issuance.Actor, deliveryID int64) (Delivery, error) {
	var out Delivery
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		d, err := s.st.GetDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		if _, err := s.Endpoint(ctx, a, d.EndpointID); err != nil {
			return err
		}
		out, err = s.st.Redeliver(ctx, deliveryID, s.now())
		return err
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("redeliver %d: %w", deliveryID, err)
	}
	return out, nil
}
