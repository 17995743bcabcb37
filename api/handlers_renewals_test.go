package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

// lifecycleCard gives h a Guangzhou volunteer whose application the bank
// approved (card recorded as the bank would, not yet handed over).
func lifecycleCard(t testing.TB, h *harness) issuance.Card {
	ctx, sys := context.Background(), issuance.SystemActor()
	v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.guangzhou.ID, Name: "续卡",
		IDNumber: residentID("440100", "19900307", 7), Phone: "13800138000", Source: issuance.ChannelConsole})
	require.NoError(t, err)
	a, err := h.svc.Apply(ctx, sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = h.svc.Approve(ctx, sys, a.ID)
	require.NoError(t, err)
	_, err = h.svc.SubmitApprovedToBank(ctx, 10)
	require.NoError(t, err)
	_, err = h.svc.RecordBankApproval(ctx, a.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, "6216610000000000018"),
		Expiry: "3112", PSN: "001", Reference: "R1"})
	require.NoError(t, err)
	c, err := h.svc.CardOf(ctx, a.ID)
	require.NoError(t, err)
	return c
}

func countRows(t testing.TB, st *store.Store, table string) int64 {
	var n int64
	require.NoError(t, st.DB(context.Background()).Table(table).Count(&n).Error)
	return n
}

// TestLifecycleRoutesRefuse: the renewal, closing and test-helper routes
// answer bad bodies with a validation problem naming the field, a test
// helper without the embedded bank with test-bank-unavailable, and a
// refused write leaves no batch, no bank request and no card change.
func TestLifecycleRoutesRefuse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newOutboxHarness(t, st)
		c := lifecycleCard(t, h)
		requests := countRows(t, st, "bank_requests")
		renewals := fmt.Sprintf("/v1/orgs/%d/cards/renewals", h.guangzhou.ID)
		card := fmt.Sprintf("/v1/cards/%d", c.ID)
		for _, tc := range []struct {
			name, path, token string
			body              any
			status            int
			kind, field       string
		}{
			{"renewal: neither", renewals, "gz", map[string]any{}, 400, wire.ProblemValidation, "expiring_before"},
			{"renewal: both", renewals, "gz", map[string]any{"expired": true, "expiring_before": "2027-01-01"}, 400, wire.ProblemValidation, "expiring_before"},
			{"renewal: bad date", renewals, "gz", map[string]any{"expiring_before": "2027-02-30"}, 400, wire.ProblemValidation, "expiring_before"},
			{"renewal: too far", renewals, "gz", map[string]any{"expiring_before": "2099-01-01"}, 400, wire.ProblemValidation, "expiring_before"},
			{"renewal: unknown field", renewals, "gz", map[string]any{"expired": true, "all": true}, 400, wire.ProblemValidation, ""},
			{"renewal: out of scope", renewals, "mz", map[string]any{"expired": true}, 404, wire.ProblemNotFound, ""},
			{"close: no reason", card + "/close", "gz", map[string]any{}, 400, wire.ProblemValidation, "close_reason"},
			{"close: unknown reason", card + "/close", "gz", map[string]any{"reason": "moved"}, 400, wire.ProblemValidation, "close_reason"},
			{"close: long note", card + "/close", "gz", map[string]any{"reason": "deceased", "note": strings.Repeat("长", 201)}, 400, wire.ProblemValidation, "note"},
			{"renew: not handed over", card + "/renew", "gz", map[string]any{}, 409, wire.ProblemIllegalTransition, ""},
			{"spending: no amount", "/v1/test" + card[3:] + "/spending", "boc", map[string]any{"kind": "purchase"}, 400, wire.ProblemValidation, "amount"},
			{"spending: kind", "/v1/test" + card[3:] + "/spending", "boc", map[string]any{"amount_fen": 5, "kind": "gift"}, 400, wire.ProblemValidation, "kind"},
			{"spending: merchant", "/v1/test" + card[3:] + "/spending", "boc", map[string]any{"amount_fen": 5, "merchant": strings.Repeat("店", 41)}, 400, wire.ProblemValidation, "merchant"},
			{"spending: no embedded bank", "/v1/test" + card[3:] + "/spending", "boc", map[string]any{"amount_fen": 5}, 409, wire.ProblemTestBankUnavailable, ""},
			{"activate: no embedded bank", "/v1/test" + card[3:] + "/activate", "admin", map[string]any{}, 409, wire.ProblemTestBankUnavailable, ""},
			{"activate: org admin", "/v1/test" + card[3:] + "/activate", "gz", map[string]any{}, 403, wire.ProblemForbidden, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := h.do("POST", tc.path, tc.token, tc.body)
				require.Equal(t, tc.status, res.status, "body: %s", res.body)
				p := res.problem(t)
				require.Equal(t, wire.ProblemBase+tc.kind, p.Type)
				if tc.field != "" {
					require.Contains(t, string(res.body), tc.field)
				}
				require.NotContains(t, string(res.body), "6216610000000000018")
			})
		}
		require.Zero(t, countRows(t, st, "renewal_batches"))
		require.Equal(t, requests, countRows(t, st, "bank_requests"))
		got, err := st.GetCard(context.Background(), c.ID)
		require.NoError(t, err)
		require.Equal(t, c.State, got.State)
		require.Empty(t, got.PendingChange)
		problem := h.do("POST", "/v1/test"+card[3:]+"/activate", "admin", map[string]any{}).problem(t)
		require.Contains(t, problem.Detail, "real bank")
	})
}

// FuzzLifecycleBodies posts arbitrary bodies to the renewal, closing and
// test-helper routes: a 2xx or a 4xx problem document, never a 5xx or a
// panic, never the card's PAN in a refusal.
func FuzzLifecycleBodies(f *testing.F) {
	st := storetest.SQLite(f)
	h := newOutboxHarness(f, st)
	c := lifecycleCard(f, h)
	paths := []string{fmt.Sprintf("/v1/orgs/%d/cards/renewals", h.guangzhou.ID), fmt.Sprintf("/v1/cards/%d/close", c.ID),
		fmt.Sprintf("/v1/test/cards/%d/spending", c.ID), fmt.Sprintf("/v1/cards/%d/renew", c.ID)}
	for i, seed := range []string{`{"expiring_before":"2027-03-01","note":"到期"}`, `{"reason":"holder_left","note":"毕业"}`,
		`{"amount_fen":12345,"kind":"refund","merchant":"爱心商户"}`, `{"reason":"到期"}`} {
		f.Add(uint8(i), []byte(seed))
		for _, s := range []string{``, `{}`, `null`, `[]`, `{"expired":true}`, `{"amount_fen":1e308}`, `{"expiring_before":"0000-01-01"}`,
			`{"reason":"deceased","note":"\u0000"}`, strings.Repeat("{", 2000)} {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.tokens["admin"])
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != wire.ProblemContentType {
			t.Fatalf("%s: status %d without problem+json", path, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "6216610000000000018") {
			t.Fatalf("%s: the answer shows the PAN: %s", path, rec.Body)
		}
	})
}
