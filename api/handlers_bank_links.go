package api

// The operators' view of the bank links: per partner bank, whether its link
// is signed on, its last echo, and its outbox backlog (queue depth, failed
// requests). Province admins only; no card or personal data.

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
)

// BankLinks is the per-bank health the bank links route shows: an
// *outbox.Banks, which checks the actor's right
// (issuance.AuthorizeBankOutbox) itself.
type BankLinks interface {
	Status(ctx context.Context, a issuance.Actor) ([]outbox.BankStatus, error)
}

var _ BankLinks = (*outbox.Banks)(nil)

// EnableBankLinks registers GET /v1/admin/banks, served by links, and adds
// it to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableBankLinks(links BankLinks) error {
	if links == nil {
		return errors.New("api: nil bank links")
	}
	s.e.GET("/v1/admin/banks", func(c echo.Context) error {
		actor, _ := actorFrom(c)
		st, err := links.Status(c.Request().Context(), actor)
		if err != nil {
			return err
		}
		out := BankLinkList{Items: make([]BankLink, 0, len(st))}
		for _, b := range st {
			out.Items = append(out.Items, toBankLink(b))
		}
		return c.JSON(http.StatusOK, out)
	}, s.authenticate(), allow(issuance.RoleProvinceAdmin))
	return s.extendOpenAPI(bankLinksOpenAPI)
}

// BankLink is one partner bank's link and outbox backlog.
type BankLink struct {
	Bank string `json:"bank"`
	// Linked is false for a bank with requests but no link in the process
	// that answered.
	Linked      bool       `json:"linked"`
	Addresses   int        `json:"addresses"`
	Connections int        `json:"connections"`
	SignedOn    int        `json:"signed_on"`
	LastSignOn  *time.Time `json:"last_sign_on,omitempty"`
	LastEcho    *time.Time `json:"last_echo,omitempty"`
	QueueDepth  int64      `json:"queue_depth"`
	Failed      int64      `json:"failed_requests"`
	OldestOpen  *time.Time `json:"oldest_open_at,omitempty"`
}

// BankLinkList is every linked bank and every bank with open or failed
// requests, by bank code.
type BankLinkList struct {
	Items []BankLink `json:"items"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toBankLink(b outbox.BankStatus) BankLink {
	return BankLink{Bank: b.Bank, Linked: b.Linked, Addresses: b.Addrs, Connections: b.Connections, SignedOn: b.SignedOn,
		LastSignOn: optTime(b.LastSignOn), LastEcho: optTime(b.LastEcho), QueueDepth: b.Open, Failed: b.Failed,
		OldestOpen: optTime(b.OldestOpen)}
}
