package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/volcard/volcard/wire"
)

// OpenPersonalization opens a personalization session for a bank_approved
// application and returns batch 1.
func (c *Client) OpenPersonalization(ctx context.Context, applicationID int64, in wire.OpenPersonalization) (wire.PersonalizationStep, error) {
	var out wire.PersonalizationStep
	err := c.do(ctx, http.MethodPost, fmt.Sprintf("/v1/applications/%d/personalizations", applicationID), in, &out)
	return out, err
}

// PostPersonalizationResponses sends the card's responses to the last batch
// and returns the next step.
func (c *Client) PostPersonalizationResponses(ctx context.Context, sessionID string, in wire.PersonalizationResponses) (wire.PersonalizationStep, error) {
	var out wire.PersonalizationStep
	err := c.do(ctx, http.MethodPost, "/v1/personalizations/"+url.PathEscape(sessionID)+"/responses", in, &out)
	return out, err
}
