package client

// Card lifecycle calls (issue 18): closing, renewal batches and the
// embedded bank's test helpers.

import (
	"context"
	"fmt"

	"github.com/volcard/volcard/wire"
)

// CloseCard asks the bank to close a card (POST /v1/cards/{id}/close).
// The answer is the card as JSON (state close_pending or closed).
func (c *Client) CloseCard(ctx context.Context, cardID int64, in wire.CloseCard) (map[string]any, error) {
	var out map[string]any
	return out, c.do(ctx, "POST", fmt.Sprintf("/v1/cards/%d/close", cardID), in, &out)
}

// RenewCards creates a renewal batch for an organisation's cards.
func (c *Client) RenewCards(ctx context.Context, orgID int64, in wire.RenewalRequest) (wire.RenewalBatch, error) {
	var out wire.RenewalBatch
	return out, c.do(ctx, "POST", fmt.Sprintf("/v1/orgs/%d/cards/renewals", orgID), in, &out)
}

// RenewalBatch returns a renewal batch with its progress.
func (c *Client) RenewalBatch(ctx context.Context, id int64) (wire.RenewalBatch, error) {
	var out wire.RenewalBatch
	return out, c.do(ctx, "GET", fmt.Sprintf("/v1/renewals/%d", id), nil, &out)
}

// TestActivateCard makes the embedded bank send the card's activation
// advice (refused for a real bank: test-bank-unavailable).
func (c *Client) TestActivateCard(ctx context.Context, cardID int64) (wire.TestAdviceResult, error) {
	var out wire.TestAdviceResult
	return out, c.do(ctx, "POST", fmt.Sprintf("/v1/test/cards/%d/activate", cardID), struct{}{}, &out)
}

// TestSpendCard makes the embedded bank send a spending advice.
func (c *Client) TestSpendCard(ctx context.Context, cardID int64, in wire.TestSpending) (wire.TestAdviceResult, error) {
	var out wire.TestAdviceResult
	return out, c.do(ctx, "POST", fmt.Sprintf("/v1/test/cards/%d/spending", cardID), in, &out)
}
