package api

// Admin routes over the bank outbox (the same as `volcard outbox`): list
// rows, send a failed one again, give a failed one up. Province admins
// only; rows show the application number and the card's last four digits,
// no other card or personal data.

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
)

// BankRequests is the operators' side of the bank outbox that the admin
// routes use: an *outbox.Admin, which checks the actor's right
// (issuance.AuthorizeBankOutbox) itself.
type BankRequests interface {
	List(ctx context.Context, a issuance.Actor, f outbox.Filter) ([]outbox.View, error)
	Retry(ctx context.Context, a issuance.Actor, id int64, reason string) (outbox.Request, error)
	Cancel(ctx context.Context, a issuance.Actor, id int64, reason string) (outbox.Request, error)
}

var _ BankRequests = (*outbox.Admin)(nil)

// bankRequests holds the handlers of the outbox admin routes.
type bankRequests struct {
	s     *Server
	admin BankRequests
}

// EnableBankRequests registers the outbox admin routes, served by admin,
// and adds them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableBankRequests(admin BankRequests) error {
	if admin == nil {
		return errors.New("api: nil bank requests")
	}
	h := &bankRequests{s: s, admin: admin}
	pa := issuance.RoleProvinceAdmin
	auth, idem := s.authenticate(), s.idempotency()
	s.e.GET("/v1/admin/bank-requests", h.list, auth, allow(pa))
	s.e.POST("/v1/admin/bank-requests/:id/retry", h.action(false), auth, allow(pa), idem)
	s.e.POST("/v1/admin/bank-requests/:id/cancel", h.action(true), auth, allow(pa), idem)
	return s.extendOpenAPI(bankRequestsOpenAPI)
}

// BankRequest is a bank outbox row as operators see it.
type BankRequest struct {
	ID                int64      `json:"id"`
	Kind              string     `json:"kind"`
	State             string     `json:"state"`
	ApplicationID     int64      `json:"application_id"`
	ApplicationNumber string     `json:"application_number"`
	CardLastFour      string     `json:"card_last_four,omitempty"`
	ParentID          int64      `json:"parent_id,omitempty"`
	Attempts          int        `json:"attempts"`
	Repeats           int        `json:"repeats"`
	STAN              string     `json:"stan,omitempty"`
	RRN               string     `json:"rrn,omitempty"`
	ResultCode        string     `json:"result_code,omitempty"`
	LastError         string     `json:"last_error,omitempty"`
	NextAttemptAt     *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// BankRequestList is a page of outbox rows, newest first.
type BankRequestList struct {
	Items []BankRequest `json:"items"`
	// NextCursor, when set, is the cursor= value of the next page.
	NextCursor string `json:"next_cursor,omitempty"`
}

func toBankRequest(v outbox.View) BankRequest {
	r := v.Request
	out := BankRequest{ID: r.ID, Kind: string(r.Kind), State: string(r.State), ApplicationID: r.ApplicationID,
		ApplicationNumber: r.ApplicationNumber, CardLastFour: v.CardLastFour, ParentID: r.ParentID, Attempts: r.Attempts,
		Repeats: r.Repeats, STAN: r.Trace.STAN, RRN: r.Trace.RRN, ResultCode: r.ResultCode, LastError: r.LastError,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if (r.State == outbox.StatePending || r.State == outbox.StateSent) && !r.NextAttemptAt.IsZero() {
		at := r.NextAttemptAt
		out.NextAttemptAt = &at
	}
	return out
}

var bankRequestStates = []string{"pending", "in_flight", "sent", "waiting", "done", "failed", "cancelled"}
var bankRequestKinds = []string{"apply", "reversal", "status_change", "holder_update", "inquiry"}

func oneOf(field, v string, allowed []string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return invalidField(field, "unknown value")
}

func (h *bankRequests) list(c echo.Context) error {
	q := c.QueryParams()
	f := outbox.Filter{State: outbox.State(q.Get("state")), Kind: outbox.Kind(q.Get("kind")), Limit: 100}
	if err := oneOf("state", q.Get("state"), bankRequestStates); err != nil {
		return err
	}
	if err := oneOf("kind", q.Get("kind"), bankRequestKinds); err != nil {
		return err
	}
	if v := q.Get("bank"); v != "" {
		if !validBankCode(v) {
			return invalidField("bank", "want a bank code such as BOC")
		}
		f.Bank = v
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalidField("limit", "want an integer 1–1000")
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		id, err := issuance.DecodeBankRequestCursor(v)
		if err != nil {
			return err
		}
		f.BeforeID = id
	}
	actor, _ := actorFrom(c)
	rows, err := h.admin.List(c.Request().Context(), actor, f)
	if err != nil {
		return err
	}
	out := BankRequestList{Items: make([]BankRequest, 0, len(rows))}
	for _, r := range rows {
		out.Items = append(out.Items, toBankRequest(r))
	}
	if len(rows) == f.Limit && len(rows) > 0 {
		out.NextCursor = issuance.EncodeBankRequestCursor(rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *bankRequests) action(cancel bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		reason, err := h.s.decodeReason(c, cancel)
		if err != nil {
			return err
		}
		actor, _ := actorFrom(c)
		var r outbox.Request
		if cancel {
			r, err = h.admin.Cancel(c.Request().Context(), actor, id, reason)
		} else {
			r, err = h.admin.Retry(c.Request().Context(), actor, id, reason)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, toBankRequest(outbox.View{Request: r}))
	}
}

// validBankCode reports whether v has the shape of a bank code (2–16
// capital letters and digits, starting with a letter).
func validBankCode(v string) bool {
	if len(v) < 2 || len(v) > 16 || v[0] < 'A' || v[0] > 'Z' {
		return false
	}
	for i := range len(v) {
		if (v[i] < 'A' || v[i] > 'Z') && (v[i] < '0' || v[i] > '9') {
			return false
		}
	}
	return true
}
