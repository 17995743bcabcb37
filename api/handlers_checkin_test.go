package api

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/wire"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

const checkinCardID = "441402200001011232" // 9F61 of testdata/cards/default.json

// checkinHarness is a harness with check-in enabled, an activity in
// Meizhou and the default card's holder registered there.
type checkinHarness struct {
	*harness
	ck     *checkin.Service
	act    wire.Activity
	holder issuance.Volunteer
}

func newCheckinHarness(t testing.TB, st *store.Store) *checkinHarness {
	t.Helper()
	return withCheckin(t, newHarness(t, st, nil))
}

// withCheckin enables check-in on h's server and adds an activity of
// Meizhou under way now and the holder of the check-in card.
func withCheckin(t testing.TB, h *harness) *checkinHarness {
	t.Helper()
	cas, err := emv.LoadCAKeys(filepath.Join("..", "testdata", "keys", "ca-public.json"))
	require.NoError(t, err)
	ck, err := checkin.New(h.svc, h.st, checkin.Config{Verifier: emv.EvidenceVerifier{CAs: cas}})
	require.NoError(t, err)
	require.NoError(t, h.srv.EnableCheckin(ck))
	ch := &checkinHarness{harness: h, ck: ck}
	now := time.Now()
	res := h.do(http.MethodPost, "/v1/activities", "mz", wire.NewActivity{OrgID: h.meizhou.ID, Title: "梅州马拉松志愿服务",
		Site: "梅江区", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(5 * time.Hour)})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	res.json(t, &ch.act)
	ch.holder, err = h.svc.RegisterVolunteer(context.Background(), issuance.SystemActor(), issuance.NewVolunteer{
		OrgID: h.meizhou.ID, Name: "张晓明", IDNumber: checkinCardID, Phone: "13812345678", LeagueMember: true})
	require.NoError(t, err)
	return ch
}

// evidence reads a software card image over un.
func cardEvidence(t testing.TB, image string, un []byte) wire.CardEvidence {
	t.Helper()
	card, err := cardsim.Load(filepath.Join("..", "testdata", "cards", image))
	require.NoError(t, err)
	conn, err := cardsim.NewReaders(card).Connect(context.Background(), cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	_, ev, err := terminal.ReadCard(context.Background(), conn, un, emv.Options{})
	require.NoError(t, err)
	return ev
}

func (h *checkinHarness) challenge(t testing.TB, token string) wire.Challenge {
	t.Helper()
	res := h.do(http.MethodPost, "/v1/terminals/challenge", token, "{}")
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	var ch wire.Challenge
	res.json(t, &ch)
	require.Len(t, ch.UN, 4)
	return ch
}

func (h *checkinHarness) tapPath() string {
	return "/v1/activities/" + strconv.FormatInt(h.act.ID, 10) + "/taps"
}

func TestCheckinOpenAPICoversRoutes(t *testing.T) {
	h := newCheckinHarness(t, storetest.SQLite(t))
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(h.srv.OpenAPI(), &doc))
	for _, r := range h.srv.Routes() {
		if r.Method == "echo_route_not_found" {
			continue
		}
		path := echoParam.ReplaceAllString(r.Path, "{$1}")
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			_, ok := doc.Paths[path][strings.ToLower(r.Method)]
			require.True(t, ok, "route %s %s missing from the OpenAPI document", r.Method, path)
		})
	}
	res := h.do(http.MethodGet, "/v1/openapi.json", "", nil)
	require.Contains(t, string(res.body), "/v1/activities/{id}/taps")
}

func TestCheckinAPI(t *testing.T) {
	h := newCheckinHarness(t, storetest.Postgres(t))

	t.Run("get activity", func(t *testing.T) {
		res := h.do(http.MethodGet, "/v1/activities/"+strconv.FormatInt(h.act.ID, 10), "terminal", nil)
		require.Equal(t, http.StatusOK, res.status)
		res = h.do(http.MethodGet, "/v1/activities/"+strconv.FormatInt(h.act.ID, 10), "gz", nil)
		require.Equal(t, http.StatusNotFound, res.status)
	})
	t.Run("only terminals get challenges and tap", func(t *testing.T) {
		require.Equal(t, http.StatusForbidden, h.do(http.MethodPost, "/v1/terminals/challenge", "mz", "{}").status)
		require.Equal(t, http.StatusUnauthorized, h.do(http.MethodPost, "/v1/terminals/challenge", "", "{}").status)
		require.Equal(t, http.StatusForbidden, h.do(http.MethodPost, h.tapPath(), "admin", "{}").status)
	})

	var in wire.TapResult
	t.Run("tap in, replay, tap out", func(t *testing.T) {
		ch := h.challenge(t, "terminal")
		req := wire.TapRequest{Seq: 1, ChallengeID: ch.ID, Card: cardEvidence(t, "default.json", ch.UN)}
		res := h.do(http.MethodPost, h.tapPath(), "terminal", req)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		res.json(t, &in)
		require.Equal(t, wire.KindCheckIn, in.Kind)
		require.Equal(t, "张晓明", in.VolunteerName)
		require.Equal(t, h.holder.ID, in.VolunteerID)
		require.NotContains(t, string(res.body), "6217850000000012349", "the PAN never comes back")

		// Same terminal, same seq: the first result, marked replayed.
		res = h.do(http.MethodPost, h.tapPath(), "terminal", req)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var again wire.TapResult
		res.json(t, &again)
		require.True(t, again.Replayed)
		require.Equal(t, in.TapID, again.TapID)

		ch = h.challenge(t, "terminal")
		res = h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 2, ChallengeID: ch.ID,
			Card: cardEvidence(t, "default.json", ch.UN)})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		var out wire.TapResult
		res.json(t, &out)
		require.Equal(t, wire.KindCheckOut, out.Kind)
	})
	t.Run("replayed challenge", func(t *testing.T) {
		ch := h.challenge(t, "terminal")
		req := wire.TapRequest{Seq: 3, ChallengeID: ch.ID, Card: cardEvidence(t, "default.json", ch.UN)}
		require.Equal(t, http.StatusCreated, h.do(http.MethodPost, h.tapPath(), "terminal", req).status)
		req.Seq = 4
		res := h.do(http.MethodPost, h.tapPath(), "terminal", req)
		require.Equal(t, http.StatusConflict, res.status)
		require.Equal(t, KindChallengeReplayed.TypeURI(), res.problem(t).Type)
	})
	t.Run("forged card", func(t *testing.T) {
		ch := h.challenge(t, "terminal")
		res := h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 5, ChallengeID: ch.ID,
			Card: cardEvidence(t, "forged.json", ch.UN)})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		p := res.problem(t)
		require.Equal(t, KindCardNotGenuine.TypeURI(), p.Type)
		require.NotContains(t, string(res.body), "6217850000000012349")
	})
	t.Run("unknown card", func(t *testing.T) {
		ch := h.challenge(t, "terminal")
		res := h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 6, ChallengeID: ch.ID,
			Card: cardEvidence(t, "pse-only.json", ch.UN)})
		require.Equal(t, http.StatusNotFound, res.status, "%s", res.body)
		require.Equal(t, KindCardUnknown.TypeURI(), res.problem(t).Type)
	})
	t.Run("sequence reused", func(t *testing.T) {
		ch := h.challenge(t, "terminal")
		res := h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 1, ChallengeID: ch.ID,
			Card: cardEvidence(t, "default.json", ch.UN)})
		require.Equal(t, http.StatusConflict, res.status)
		require.Equal(t, KindSequenceReused.TypeURI(), res.problem(t).Type)
	})
	t.Run("malformed evidence", func(t *testing.T) {
		for name, body := range map[string]string{
			"empty":         `{}`,
			"bad hex":       `{"seq":9,"challenge_id":"x","card":{"aid":"zz"}}`,
			"unknown field": `{"seq":9,"challenge_id":"x","card":{},"extra":1}`,
			"no records":    `{"seq":9,"offline":true,"at":"2026-01-01T00:00:00Z","card":{"aid":"A000000333010101","aip":"7C00","afl":"08010101","ddol_data":"00000000","sdad":"00"}}`,
		} {
			t.Run(name, func(t *testing.T) {
				res := h.do(http.MethodPost, h.tapPath(), "terminal", body)
				require.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
				res.problem(t)
			})
		}
	})
	t.Run("service record", func(t *testing.T) {
		res := h.do(http.MethodGet, "/v1/volunteers/"+strconv.FormatInt(h.holder.ID, 10)+"/service-record", "mz", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var rec wire.ServiceRecord
		res.json(t, &rec)
		require.Equal(t, "张晓明", rec.Name)
		require.Len(t, rec.Activities, 2)
		require.Equal(t, float64(20), rec.MemberExpectationHours)
		require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/v1/volunteers/"+strconv.FormatInt(h.holder.ID, 10)+"/service-record", "gz", nil).status)
	})
	t.Run("add hours and correct", func(t *testing.T) {
		path := "/v1/volunteers/" + strconv.FormatInt(h.holder.ID, 10) + "/service-hours"
		res := h.do(http.MethodPost, path, "mz", map[string]any{"year": 2025, "hours": 310, "reason": "i志愿 import"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var rec wire.ServiceRecord
		res.json(t, &rec)
		require.Equal(t, 2, rec.Stars)
		require.Equal(t, "star", rec.Tier)

		att := rec.Activities[0]
		now := time.Now().UTC()
		res = h.do(http.MethodPost, "/v1/attendances/"+strconv.FormatInt(att.AttendanceID, 10)+"/correction", "mz",
			map[string]any{"in_at": now.Add(-50 * time.Minute), "out_at": now, "reason": "tapped out late"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var item wire.AttendanceItem
		res.json(t, &item)
		require.True(t, item.Corrected)
		require.Equal(t, int64(50), item.Minutes)
		res = h.do(http.MethodPost, "/v1/attendances/"+strconv.FormatInt(att.AttendanceID, 10)+"/correction", "gz",
			map[string]any{"in_at": now.Add(-50 * time.Minute), "out_at": now, "reason": "x"})
		require.Equal(t, http.StatusNotFound, res.status)
	})
	t.Run("member hours", func(t *testing.T) {
		res := h.do(http.MethodGet, "/v1/orgs/"+strconv.FormatInt(h.meizhou.ID, 10)+"/member-hours?year=2025", "mz", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var rep memberHoursReport
		res.json(t, &rep)
		require.Equal(t, 1, rep.Members)
		require.Equal(t, 1, rep.Met)
	})
	t.Run("benefits", func(t *testing.T) {
		res := h.do(http.MethodPost, "/v1/offers", "mz", map[string]any{"org_id": h.meizhou.ID, "tier": "star", "title": "景区门票半价"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		ch := h.challenge(t, "terminal")
		res = h.do(http.MethodPost, "/v1/benefits/check", "terminal", wire.BenefitsRequest{ChallengeID: ch.ID,
			Card: cardEvidence(t, "default.json", ch.UN)})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var b wire.Benefits
		res.json(t, &b)
		require.Equal(t, "张*明", b.Name)
		require.Equal(t, "star", b.Tier)
		require.Len(t, b.Offers, 1)
		require.NotContains(t, string(res.body), "张晓明")
	})
	pan := "6217850000000012349" // default.json, bound to the Meizhou holder by the taps above
	binding := func(t *testing.T) checkin.CardBinding {
		b, err := h.st.GetCardBinding(context.Background(), h.svc.PANToken(pan))
		require.NoError(t, err)
		return b
	}
	t.Run("block out of scope writes nothing", func(t *testing.T) {
		// Finding 1 of issue 14: Guangzhou's org admin blocked a Meizhou
		// volunteer's card (204), and so could another bank's staff.
		before := binding(t)
		for _, tok := range []string{"gz", "boc"} {
			res := h.do(http.MethodPost, "/v1/cards/block", tok, map[string]any{"pan": pan, "reason": "lost"})
			require.Equal(t, http.StatusNotFound, res.status, "%s: %s", tok, res.body)
		}
		require.Equal(t, before, binding(t))
		require.Equal(t, checkin.CardActive, before.Status)
		res := h.do(http.MethodPost, "/v1/cards/block", "mz", map[string]any{"pan": "6217850000000099998", "reason": "lost"})
		require.Equal(t, http.StatusNotFound, res.status, "a card volcard does not know: only the province admin blocks it ahead")
	})
	t.Run("blocked card", func(t *testing.T) {
		res := h.do(http.MethodPost, "/v1/cards/block", "mz", map[string]any{"pan": pan, "reason": "lost"})
		require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
		ch := h.challenge(t, "terminal")
		res = h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 20, ChallengeID: ch.ID,
			Card: cardEvidence(t, "default.json", ch.UN)})
		require.Equal(t, http.StatusForbidden, res.status)
		require.Equal(t, KindCardBlocked.TypeURI(), res.problem(t).Type)
	})
	t.Run("unblocked card", func(t *testing.T) {
		res := h.do(http.MethodPost, "/v1/cards/unblock", "gz", map[string]any{"pan": pan})
		require.Equal(t, http.StatusNotFound, res.status, "%s", res.body)
		require.Equal(t, checkin.CardBlocked, binding(t).Status)
		res = h.do(http.MethodPost, "/v1/cards/unblock", "mz", map[string]any{"pan": pan, "reason": "found again"})
		require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
		require.Equal(t, checkin.CardActive, binding(t).Status)
		ch := h.challenge(t, "terminal")
		res = h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 21, ChallengeID: ch.ID,
			Card: cardEvidence(t, "default.json", ch.UN)})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		res = h.do(http.MethodPost, "/v1/cards/block", "admin", map[string]any{"pan": "6217850000000099998", "reason": "reported stolen"})
		require.Equal(t, http.StatusNoContent, res.status, "the province admin blocks an unknown card ahead: %s", res.body)
	})
}

// TestTerminalState checks GET /v1/terminals/self, what a terminal asks at
// start: its activity when in scope (404 otherwise), and the highest
// sequence number of its token's taps, which a tap moves and another
// token's taps do not.
func TestTerminalState(t *testing.T) {
	h := newCheckinHarness(t, storetest.Postgres(t))
	state := func(t *testing.T, token, query string) (response, wire.TerminalState) {
		t.Helper()
		res := h.do(http.MethodGet, "/v1/terminals/self"+query, token, nil)
		var st wire.TerminalState
		if res.status == http.StatusOK {
			res.json(t, &st)
		}
		return res, st
	}
	actQuery := "?activity=" + strconv.FormatInt(h.act.ID, 10)

	res, st := state(t, "terminal", actQuery)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Zero(t, st.LastSeq)
	require.NotNil(t, st.Activity)
	require.Equal(t, h.act.Title, st.Activity.Title)
	require.Equal(t, "no-store", res.header.Get("Cache-Control"))

	ch := h.challenge(t, "terminal")
	tap := h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 41, ChallengeID: ch.ID, Card: cardEvidence(t, "default.json", ch.UN)})
	require.Equal(t, http.StatusCreated, tap.status, "%s", tap.body)
	res, st = state(t, "terminal", "")
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	require.Equal(t, int64(41), st.LastSeq)
	require.Nil(t, st.Activity, "none asked for")

	other, _, err := h.svc.CreateToken(context.Background(), issuance.SystemActor(), issuance.NewToken{Name: "gate 2",
		Role: issuance.RoleTerminal, OrgID: h.meizhou.ID})
	require.NoError(t, err)
	h.tokens["terminal 2"] = other
	_, st = state(t, "terminal 2", actQuery)
	require.Zero(t, st.LastSeq, "another token's taps are another sequence")

	for _, tc := range []struct {
		name, token, query string
		status             int
		problem            string
	}{
		{"unknown activity", "terminal", "?activity=999999", http.StatusNotFound, wire.ProblemNotFound},
		{"bad activity", "terminal", "?activity=twelve", http.StatusBadRequest, wire.ProblemValidation},
		{"not a terminal token", "mz", actQuery, http.StatusForbidden, wire.ProblemForbidden},
		{"no token", "", actQuery, http.StatusUnauthorized, wire.ProblemUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := state(t, tc.token, tc.query)
			require.Equal(t, tc.status, res.status, "%s", res.body)
			require.Equal(t, wire.ProblemBase+tc.problem, res.problem(t).Type)
		})
	}
	t.Run("activity of another organisation", func(t *testing.T) {
		gz := h.do(http.MethodPost, "/v1/activities", "gz", wire.NewActivity{OrgID: h.guangzhou.ID, Title: "广州义工",
			StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour)})
		require.Equal(t, http.StatusCreated, gz.status, "%s", gz.body)
		var a wire.Activity
		gz.json(t, &a)
		res, _ := state(t, "terminal", "?activity="+strconv.FormatInt(a.ID, 10))
		require.Equal(t, http.StatusNotFound, res.status, "a Meizhou terminal cannot use a Guangzhou activity")
	})
}
