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
var bankRequestKinds = []string{"apply", "reversal", "status_change", "inquiry"}

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

// bankRequestsOpenAPI adds the outbox admin routes and schemas.
func bankRequestsOpenAPI(paths, schemas obj) {
	admin := []string{"province_admin"}
	idParam := pathParam("id", "Outbox row id")
	action := func(id, summary string) obj {
		return op(id, summary, admin, []obj{idParam, idempotencyHeader}, "BankRequestAction", obj{
			"200": jsonResponse("The row after the change.", "BankRequest"),
			"404": problem("No such row (not-found)."),
			"409": problem("The row is not failed: only failed rows can be retried or cancelled (conflict)."),
		})
	}
	paths["/v1/admin/bank-requests"] = obj{"get": op("listBankRequests",
		"Bank outbox rows, newest first (same as `volcard outbox list`). Only the application number and the card's last four "+
			"digits are shown.", admin,
		[]obj{queryParam("state", "Only rows in this state.", enum("", bankRequestStates...)),
			queryParam("kind", "Only rows of this kind.", enum("", bankRequestKinds...)),
			queryParam("limit", "At most this many rows (default 100).", obj{"type": "integer", "minimum": 1, "maximum": 1000}),
			queryParam("cursor", "The next_cursor of the previous page (opaque; a malformed one is 400).", obj{"type": "string"})},
		"", obj{"200": jsonResponse("The rows.", "BankRequestList"), "400": problem("Bad query parameter (validation).")})}
	paths["/v1/admin/bank-requests/{id}/retry"] = obj{"post": action("retryBankRequest",
		"Send a failed row again as a new request (new STAN; the bank deduplicates). Same as `volcard outbox retry`.")}
	paths["/v1/admin/bank-requests/{id}/cancel"] = obj{"post": action("cancelBankRequest",
		"Give a failed row up for good, with a reason (required). A status change's pending change is dropped; a reversal's "+
			"add is sent afresh; an add leaves its application in bank_pending. Same as `volcard outbox cancel`.")}
	schemas["BankRequestAction"] = object(nil, obj{"reason": str("Why (required for cancel; at most 200 characters).")})
	schemas["BankRequest"] = object(nil, obj{
		"id": integer("Row id."), "kind": str("apply, reversal or status_change."),
		"state":          str("pending, in_flight, sent, waiting, done, failed or cancelled."),
		"application_id": integer("Application."), "application_number": str("Application number (field 48 AN)."),
		"card_last_four": str("Last four digits of the application's current card, if any."),
		"parent_id":      integer("For a reversal: the add it reverses."),
		"attempts":       integer("Claims by a worker."), "repeats": integer("Sends without an answer in a row."),
		"stan": str("Field 11 of the current trace."), "rrn": str("Field 37 of the current trace."),
		"result_code": str("The bank's last final response code."), "last_error": str("Last error or operator note (no personal data)."),
		"next_attempt_at": str("When a pending or sent row is due."), "created_at": str("Created."), "updated_at": str("Updated."),
	})
	schemas["BankRequestList"] = object([]string{"items"}, obj{"items": arrayOf(ref("BankRequest")),
		"next_cursor": str("The cursor= value of the next page, when there may be one.")})
}
