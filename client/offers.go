package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/volcard/volcard/wire"
)

// CreateOffer attaches an offer to a tier for an organisation (POST
// /v1/offers).
func (c *Client) CreateOffer(ctx context.Context, in wire.NewOffer) (wire.Offer, error) {
	var o wire.Offer
	err := c.do(ctx, http.MethodPost, "/v1/offers", in, &o)
	return o, err
}

// ListOffers lists the offers in the token's scope (GET /v1/offers),
// of orgID's subtree when orgID > 0, withdrawn ones too when withdrawn.
func (c *Client) ListOffers(ctx context.Context, orgID int64, withdrawn bool) (wire.OfferList, error) {
	q := url.Values{}
	if orgID > 0 {
		q.Set("org", strconv.FormatInt(orgID, 10))
	}
	if withdrawn {
		q.Set("withdrawn", "true")
	}
	path := "/v1/offers"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l wire.OfferList
	err := c.do(ctx, http.MethodGet, path, nil, &l)
	return l, err
}

// ChangeOffer changes an offer (PATCH /v1/offers/{id}).
func (c *Client) ChangeOffer(ctx context.Context, id int64, ch wire.OfferChange) (wire.Offer, error) {
	var o wire.Offer
	err := c.do(ctx, http.MethodPatch, "/v1/offers/"+strconv.FormatInt(id, 10), ch, &o)
	return o, err
}

// WithdrawOffer withdraws an offer (POST /v1/offers/{id}/withdraw).
func (c *Client) WithdrawOffer(ctx context.Context, id int64, reason string) (wire.Offer, error) {
	var o wire.Offer
	err := c.do(ctx, http.MethodPost, "/v1/offers/"+strconv.FormatInt(id, 10)+"/withdraw", wire.Decision{Reason: reason}, &o)
	return o, err
}

// Redeem records that the terminal granted an offer after its benefit
// check (POST /v1/benefits/redemptions).
func (c *Client) Redeem(ctx context.Context, in wire.RedemptionRequest) (wire.Redemption, error) {
	var r wire.Redemption
	err := c.do(ctx, http.MethodPost, "/v1/benefits/redemptions", in, &r)
	return r, err
}

// Redemptions lists the redemptions of an offer (GET
// /v1/offers/{id}/redemptions).
func (c *Client) Redemptions(ctx context.Context, offerID int64) (wire.RedemptionList, error) {
	var l wire.RedemptionList
	err := c.do(ctx, http.MethodGet, "/v1/offers/"+strconv.FormatInt(offerID, 10)+"/redemptions", nil, &l)
	return l, err
}
