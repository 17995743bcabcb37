package api

// The holder's loss report (issue 18): POST /v1/progress/loss-report, no
// token, the holder proving who they are as for the progress lookup. Its
// body holds an ID number: the access log records only the path.

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
)

// LossReportRequest is the body of a loss report.
type LossReportRequest struct {
	ApplicationNumber string `json:"application_number"`
	IDNumber          string `json:"id_number"`
}

// LossReport is the answer to a loss report: the card (last four digits
// only) and its state.
type LossReport struct {
	ApplicationNumber string `json:"application_number"`
	LastFour          string `json:"last_four"`
	// State is block_pending, blocked or replace_pending.
	State string `json:"state"`
	// Reported is false when a block was already on its way or done.
	Reported bool `json:"reported"`
}

// noCardDetail is the one answer to a wrong pair and to a right pair
// without a card that can be blocked.
const noCardDetail = "no card that can be blocked was found for this application number and ID number; " +
	"check both, or ask the organisation or the bank branch that issued the card"

// reportLoss blocks the holder's card through the bank: 202 when this
// report asked for the block, 200 when it was already asked for or done.
func (s *Server) reportLoss(c echo.Context) error {
	var req LossReportRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ApplicationNumber == "" {
		return invalidField("application_number", "is required")
	}
	if req.IDNumber == "" {
		return invalidField("id_number", "is required")
	}
	r, err := s.svc.ReportLoss(c.Request().Context(), req.ApplicationNumber, req.IDNumber)
	switch {
	case errors.Is(err, issuance.ErrNotFound):
		return &Error{Kind: KindNotFound, Detail: noCardDetail}
	case err != nil:
		var ce *issuance.CardChangeError
		if errors.As(err, &ce) {
			return &Error{Kind: KindIllegalTransition, Internal: err,
				Detail: "a change of this card is on its way to the bank; report the loss again in a few minutes, or call the bank"}
		}
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	status := http.StatusOK
	if r.Reported {
		status = http.StatusAccepted
	}
	return c.JSON(status, LossReport{ApplicationNumber: r.ApplicationNumber, LastFour: r.LastFour, State: r.State, Reported: r.Reported})
}
