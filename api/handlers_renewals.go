package api

// Renewal, closing and the embedded bank's test helpers (issue 18):
// POST /v1/cards/{id}/close, POST /v1/orgs/{id}/cards/renewals,
// GET /v1/renewals/{id}, POST /v1/test/cards/{id}/activate and
// /spending. Routes are registered in handlers_cards.go.

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/wire"
)

func (s *Server) closeCard(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	b, err := readBody(c, s.opts.BodyLimit)
	if err != nil {
		return err
	}
	var req wire.CloseCard
	if err := decodeStrict(b, &req); err != nil {
		return err
	}
	if err := checkText("note", req.Note, 200, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	d, written, err := s.svc.CloseCard(c.Request().Context(), actor, id, issuance.CloseReason(req.Reason), req.Note)
	if err != nil {
		return cardError(err)
	}
	status := http.StatusOK
	if written {
		status = http.StatusAccepted
	}
	return c.JSON(status, toCard(d))
}

func (s *Server) createRenewals(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	b, err := readBody(c, s.opts.BodyLimit)
	if err != nil {
		return err
	}
	var req wire.RenewalRequest
	if err := decodeStrict(b, &req); err != nil {
		return err
	}
	if err := checkText("note", req.Note, 200, false); err != nil {
		return err
	}
	r := issuance.RenewalRequest{OrgID: id, ExpiredOnly: req.Expired, Note: req.Note}
	if req.ExpiringBefore != "" {
		d, err := time.ParseInLocation(time.DateOnly, req.ExpiringBefore, issuance.ChinaTime)
		if err != nil {
			return invalidField("expiring_before", "must be a date YYYY-MM-DD")
		}
		r.ExpiringBefore = d
	}
	actor, _ := actorFrom(c)
	batch, err := s.svc.RequestRenewals(c.Request().Context(), actor, r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toRenewalBatch(batch))
}

func (s *Server) getRenewals(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	batch, err := s.svc.RenewalBatch(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRenewalBatch(batch))
}

func toRenewalBatch(b issuance.RenewalBatch) wire.RenewalBatch {
	out := wire.RenewalBatch{ID: b.ID, OrgID: b.OrgID, Through: b.Through, ExpiredOnly: b.ExpiredOnly,
		CreatedAt: b.CreatedAt.UTC().Format(time.RFC3339), Progress: map[string]int{},
		Items: make([]wire.RenewalItem, 0, len(b.Items))}
	for k, n := range b.Progress() {
		out.Progress[string(k)] = n
	}
	for _, it := range b.Items {
		out.Items = append(out.Items, wire.RenewalItem{CardID: it.CardID, LastFour: it.LastFour, Expiry: it.Expiry,
			State: string(it.State), ResultCode: it.ResultCode, Reason: it.Reason, NewCardID: it.NewCardID})
	}
	return out
}

// testBankError turns a refused test helper into its problem.
func testBankError(err error) error {
	if errors.Is(err, issuance.ErrNoTestBank) {
		return &Error{Kind: KindTestBankUnavailable,
			Detail:   "the card's bank is a real bank (a bank link is configured): test helpers work only on the embedded bank simulator; nothing was sent",
			Internal: err}
	}
	return err
}

func (s *Server) testActivate(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	res, err := s.svc.TestActivateCard(c.Request().Context(), actor, id)
	if err != nil {
		return testBankError(err)
	}
	return c.JSON(http.StatusOK, wire.TestAdviceResult{CardID: id, Advice: "activation", RRN: res.RRN, ResponseCode: res.ResponseCode})
}

func (s *Server) testSpending(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	b, err := readBody(c, s.opts.BodyLimit)
	if err != nil {
		return err
	}
	var req wire.TestSpending
	if err := decodeStrict(b, &req); err != nil {
		return err
	}
	if req.Kind == "" {
		req.Kind = string(issuance.SpendingPurchase)
	}
	actor, _ := actorFrom(c)
	res, err := s.svc.TestSpendCard(c.Request().Context(), actor, id, issuance.SpendingKind(req.Kind), req.AmountFen, req.Merchant)
	if err != nil {
		return testBankError(err)
	}
	return c.JSON(http.StatusOK, wire.TestAdviceResult{CardID: id, Advice: req.Kind, RRN: res.RRN, ResponseCode: res.ResponseCode})
}
