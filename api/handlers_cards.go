package api

// Card routes: a card's details (masked PAN only), a volunteer's cards,
// and block / unblock / replace through the partner bank. A change is
// accepted (202) with the card showing the pending change
// ("block_pending"); the bank gateway's outbox delivers it and the card
// changes when the bank confirms. Asking again for what is pending or
// already so answers 200 with the card and writes nothing.

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
)

// cardRoutes registers the card routes.
func (s *Server) cardRoutes(v1 *echo.Group, auth, idem echo.MiddlewareFunc) {
	const (
		pa = issuance.RoleProvinceAdmin
		oa = issuance.RoleOrgAdmin
		bs = issuance.RoleBankStaff
		pf = issuance.RolePlatform
	)
	v1.GET("/cards/:id", s.getCard, auth, allow(pa, oa, bs, pf))
	v1.GET("/cards/:id/events", s.cardEvents, auth, allow(pa, oa, bs, pf))
	v1.GET("/volunteers/:id/cards", s.volunteerCards, auth, allow(pa, oa, bs, pf))
	v1.POST("/cards/:id/block", s.cardChange(issuance.CardChangeBlock), auth, allow(pa, oa, bs), idem)
	v1.POST("/cards/:id/unblock", s.cardChange(issuance.CardChangeUnblock), auth, allow(pa, oa, bs), idem)
	v1.POST("/cards/:id/replace", s.cardChange(issuance.CardChangeReplace), auth, allow(pa, oa, bs), idem)
	v1.POST("/cards/:id/renew", s.cardChange(issuance.CardChangeRenew), auth, allow(pa, oa), idem)
	v1.POST("/cards/:id/close", s.closeCard, auth, allow(pa, oa, bs), idem)
	v1.GET("/orgs/:id/cards/expiring", s.expiringCards, auth, allow(pa, oa))
	v1.POST("/orgs/:id/cards/renewals", s.createRenewals, auth, allow(pa, oa), idem)
	v1.GET("/renewals/:id", s.getRenewals, auth, allow(pa, oa))
	v1.POST("/test/cards/:id/activate", s.testActivate, auth, allow(pa, bs))
	v1.POST("/test/cards/:id/spending", s.testSpending, auth, allow(pa, bs))
}

// Card is a bank-issued card as the API shows it: never the clear PAN.
type Card struct {
	ID                int64      `json:"id"`
	ApplicationID     int64      `json:"application_id"`
	ApplicationNumber string     `json:"application_number"`
	ApplicationStatus string     `json:"application_status"`
	VolunteerID       int64      `json:"volunteer_id"`
	Product           string     `json:"product"`
	Bank              string     `json:"bank"`
	MaskedPAN         string     `json:"masked_pan"`
	LastFour          string     `json:"last_four"`
	Expiry            string     `json:"expiry"`
	PSN               string     `json:"psn"`
	State             string     `json:"state"`
	ConfirmedState    string     `json:"confirmed_state"`
	PendingChange     string     `json:"pending_change,omitempty"`
	ReplaceSeq        int        `json:"replace_seq"`
	ReplacedBy        int64      `json:"replaced_by,omitempty"`
	BlockReason       string     `json:"block_reason,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	ActivatedAt       *time.Time `json:"activated_at,omitempty"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// CardList is a list of cards.
type CardList struct {
	Items []Card `json:"items"`
}

// CardEvent is one lifecycle event of a card.
type CardEvent struct {
	Kind       string    `json:"kind"`
	Change     string    `json:"change,omitempty"`
	ActorRole  string    `json:"actor_role"`
	Channel    string    `json:"channel,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	ResultCode string    `json:"result_code,omitempty"`
	At         time.Time `json:"at"`
}

// CardEventList is a card's events, oldest first.
type CardEventList struct {
	Items []CardEvent `json:"items"`
}

func toCard(d issuance.CardDetails) Card {
	c := Card{ID: d.ID, ApplicationID: d.ApplicationID, ApplicationNumber: d.ApplicationNumber,
		ApplicationStatus: string(d.ApplicationStatus), VolunteerID: d.VolunteerID, Product: d.ProductCode,
		Bank: d.BankCode, MaskedPAN: d.MaskedPAN, LastFour: d.LastFour, Expiry: d.Expiry, PSN: d.PSN,
		State: d.DisplayState(), ConfirmedState: string(d.State), PendingChange: string(d.PendingChange),
		ReplaceSeq: d.ReplaceSeq, ReplacedBy: d.ReplacedBy, BlockReason: d.BlockReason,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if !d.ActivatedAt.IsZero() {
		at := d.ActivatedAt
		c.ActivatedAt = &at
	}
	return c
}

// cardError turns a refused card change into a problem that says why.
func cardError(err error) error {
	var ce *issuance.CardChangeError
	if errors.As(err, &ce) {
		return &Error{Kind: KindIllegalTransition, Detail: ce.Error(), Internal: err}
	}
	return err
}

func (s *Server) getCard(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	d, err := s.svc.GetCard(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCard(d))
}

func (s *Server) cardEvents(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	ev, err := s.svc.CardEvents(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	out := CardEventList{Items: make([]CardEvent, 0, len(ev))}
	for _, e := range ev {
		out.Items = append(out.Items, CardEvent{Kind: string(e.Kind), Change: string(e.Change), ActorRole: string(e.ActorRole),
			Channel: string(e.Channel), Reason: e.Reason, ResultCode: e.ResultCode, At: e.At})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) volunteerCards(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	cards, err := s.svc.VolunteerCards(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	out := CardList{Items: make([]Card, 0, len(cards))}
	for _, d := range cards {
		out.Items = append(out.Items, toCard(d))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) cardChange(change issuance.CardChange) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		reason, err := s.decodeReason(c, change == issuance.CardChangeBlock || change == issuance.CardChangeReplace)
		if err != nil {
			return err
		}
		actor, _ := actorFrom(c)
		d, written, err := s.svc.RequestCardChange(c.Request().Context(), actor,
			issuance.CardChangeRequest{CardID: id, Change: change, Reason: reason})
		if err != nil {
			return cardError(err)
		}
		status := http.StatusOK
		if written {
			status = http.StatusAccepted
		}
		return c.JSON(status, toCard(d))
	}
}

// expiringCards lists the organisation's cards (and its subtree's) whose
// validity ends within ?within= days, soonest first.
func (s *Server) expiringCards(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	within, err := issuance.ParseWithin(c.QueryParam("within"))
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	cards, err := s.svc.ExpiringCards(c.Request().Context(), actor, id, within)
	if err != nil {
		return err
	}
	out := ExpiringCardList{Items: make([]ExpiringCard, 0, len(cards))}
	for _, d := range cards {
		item := ExpiringCard{Card: toCard(d)}
		if end, err := issuance.ExpiryEnd(d.Expiry); err == nil {
			item.ValidThrough = end.AddDate(0, 0, -1).Format(time.DateOnly)
		}
		out.Items = append(out.Items, item)
	}
	return c.JSON(http.StatusOK, out)
}

// ExpiringCard is a card of the expiring list: the card and the last day
// it is valid (China time).
type ExpiringCard struct {
	Card
	ValidThrough string `json:"valid_through"`
}

// ExpiringCardList is the expiring list, soonest expiry first.
type ExpiringCardList struct {
	Items []ExpiringCard `json:"items"`
}
