package api

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
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

// TestListApplicationsNames checks that application lists carry the
// applicant's and the organisation's names (the console shows names, not
// ids), on both backends, and that a single application does not.
func TestListApplicationsNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		ctx := context.Background()
		want := map[int64]string{}
		for i, name := range []string{"李小梅", "张晓明", "欧阳娜娜"} {
			vol, err := h.svc.RegisterVolunteer(ctx, issuance.SystemActor(), issuance.NewVolunteer{
				OrgID: h.meizhou.ID, Name: name, IDNumber: residentID("441402", "19950615", 500+i),
				Phone: "13812345678", ClothingSize: "M"})
			require.NoError(t, err)
			app, err := h.svc.Apply(ctx, issuance.SystemActor(), vol.ID, "GD-RV-BOC", issuance.ChannelBranch)
			require.NoError(t, err)
			want[app.ID] = name
		}
		for _, tok := range []string{"admin", "mz", "boc"} {
			r := h.do(http.MethodGet, "/v1/applications?limit=10", tok, nil)
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			var page struct {
				Items []applicationResponse `json:"items"`
			}
			r.json(t, &page)
			require.Len(t, page.Items, len(want), tok)
			for _, a := range page.Items {
				require.Equal(t, want[a.ID], a.VolunteerName, "%s: application %d", tok, a.ID)
				require.Equal(t, "梅州市", a.OrgName, tok)
			}
		}
		r := h.do(http.MethodGet, "/v1/applications?limit=10&org="+strconv.FormatInt(h.guangzhou.ID, 10), "admin", nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.NotContains(t, string(r.body), "李小梅", "another organisation's list names nobody of Meizhou")
	})
}
