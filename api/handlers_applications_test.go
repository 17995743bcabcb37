package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestApplyChannelDefault posts applications without a channel, as the
// OpenAPI document allows: each caller's role gives the channel (bank staff
// branch, the platform platform, league-committee admins online), and a
// channel given is kept.
func TestApplyChannelDefault(t *testing.T) {
	h := newHarness(t, storetest.Postgres(t), nil)
	tests := []struct {
		token, channel, want string
	}{
		{token: "admin", want: "online"},
		{token: "mz", want: "online"},
		{token: "boc", want: "branch"},
		{token: "platform", want: "platform"},
		{token: "mz", channel: "on_site", want: "on_site"},
	}
	for i, tc := range tests {
		t.Run(tc.token+" "+tc.want, func(t *testing.T) {
			vol, err := h.svc.RegisterVolunteer(context.Background(), issuance.SystemActor(), issuance.NewVolunteer{
				OrgID: h.meizhou.ID, Name: "李小梅", IDNumber: residentID("441402", "19950615", 400+i),
				Phone: "13812345678", ClothingSize: "M"})
			require.NoError(t, err)
			body := map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC"}
			if tc.channel != "" {
				body["channel"] = tc.channel
			}
			r := h.do("POST", "/v1/applications", tc.token, body)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			var app applicationResponse
			r.json(t, &app)
			require.Equal(t, tc.want, app.Channel)
		})
	}
	t.Run("unknown channel", func(t *testing.T) {
		r := h.do("POST", "/v1/applications", "mz", map[string]any{"volunteer_id": 1, "product": "GD-RV-BOC", "channel": "fax"})
		require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
		require.Equal(t, "channel", r.problem(t).Errors[0].Field)
	})
}
