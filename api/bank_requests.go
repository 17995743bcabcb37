package api

// Admin routes over the bank outbox (the same as `volcard outbox`): list
// rows, send a failed one again, give a failed one up. Province admins
// only; rows show the application number and the card's last four digits,
// no other card or personal data.

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
)

// bankRequestRoutes registers the outbox admin routes and adds them to the
// OpenAPI document.
func (s *Server) bankRequestRoutes(v1 *echo.Group, auth, idem echo.MiddlewareFunc) {
	if err := s.addBankRequestRoutes(v1, auth, idem); err != nil {
		s.log.Error("api: bank request routes", slog.String("err", err.Error()))
	}
}

func (s *Server) addBankRequestRoutes(v1 *echo.Group, auth, idem echo.MiddlewareFunc) error {
	pa := issuance.RoleProvinceAdmin
	v1.GET("/admin/bank-requests", s.listBankRequests, auth, allow(pa))
	v1.POST("/admin/bank-requests/:id/retry", s.bankRequestAction(false), auth, allow(pa), idem)
	v1.POST("/admin/bank-requests/:id/cancel", s.bankRequestAction(true), auth, allow(pa), idem)
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

func toBankRequest(v issuance.BankRequestView) BankRequest {
	r := v.BankRequest
	out := BankRequest{ID: r.ID, Kind: string(r.Kind), State: string(r.State), ApplicationID: r.ApplicationID,
		ApplicationNumber: r.ApplicationNumber, CardLastFour: v.CardLastFour, ParentID: r.ParentID, Attempts: r.Attempts,
		Repeats: r.Repeats, STAN: r.Trace.STAN, RRN: r.Trace.RRN, ResultCode: r.ResultCode, LastError: r.LastError,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if (r.State == issuance.BankPending || r.State == issuance.BankSent) && !r.NextAttemptAt.IsZero() {
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

func (s *Server) listBankRequests(c echo.Context) error {
	q := c.QueryParams()
	f := issuance.BankRequestFilter{State: issuance.BankRequestState(q.Get("state")), Kind: issuance.BankRequestKind(q.Get("kind")), Limit: 100}
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
	rows, err := s.svc.ListBankRequests(c.Request().Context(), actor, f)
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

func (s *Server) bankRequestAction(cancel bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		reason, err := s.decodeReason(c, cancel)
		if err != nil {
			return err
		}
		actor, _ := actorFrom(c)
		var r issuance.BankRequest
		if cancel {
			r, err = s.svc.CancelBankRequest(c.Request().Context(), actor, id, reason)
		} else {
			r, err = s.svc.RetryBankRequest(c.Request().Context(), actor, id, reason)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, toBankRequest(issuance.BankRequestView{BankRequest: r}))
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
