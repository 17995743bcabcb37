package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestFeedRecordsCardLife: the changes of a card's life after issue write
// their feed events in their own transaction (one rolled back leaves
// none): renewal and closing requested, the renewal confirmed, a change
// refused, the card closed, the holder's cover started and ended, a rebate
// statement generated, a volunteer edited and given the platform's number.
// Each is scoped to its organisation (and bank for card events), its
// payload free of names, phones and PANs.
func TestFeedRecordsCardLife(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, city, v := base(t, st)
		a := newApp(v, "GD-L-1")
		e := issuance.Event{To: issuance.StatusSubmitted, ActorRole: issuance.RolePlatform, Channel: issuance.ChannelOnline, At: now}
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error { return st.CreateApplicationWithEvent(ctx, &a, &e) }))
		c := issuance.Card{ApplicationID: a.ID, PANToken: []byte("tok-l"), PANSealed: []byte{9}, LastFour: "8765",
			Expiry: "2612", PSN: "01", State: issuance.BankCardIssued, CreatedAt: now}
		require.NoError(t, st.CreateCard(ctx, &c))
		require.NoError(t, st.ActivateCard(ctx, c.ID, now))
		start := len(readAll(t, st, issuance.Scope{}))

		ps, err := st.ListPolicies(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, ps)
		en := insurance.Enrolment{VolunteerID: v.ID, ApplicationID: a.ID, OrgID: v.OrgID, OrgPath: v.OrgPath,
			PolicyID: ps[0].ID, CoverFen: ps[0].CoverFen, StartsAt: now, StartDay: insurance.Day(now)}
		ok, err := st.InsertEnrolment(ctx, &en)
		require.NoError(t, err)
		require.True(t, ok)
		again := en
		ok, err = st.InsertEnrolment(ctx, &again)
		require.NoError(t, err)
		require.False(t, ok, "one open enrolment: no second event")

		card := func(kind issuance.CardEventKind, ch issuance.CardChange, reason, code string) {
			t.Helper()
			require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
				return st.AppendCardEvent(ctx, &issuance.CardEvent{CardID: c.ID, Kind: kind, Change: ch,
					ActorRole: issuance.RoleOrgAdmin, Channel: issuance.ChannelConsole, Reason: reason, ResultCode: code, At: now})
			}))
		}
		card(issuance.CardEventRequested, issuance.CardChangeRenew, "", "")
		c.State, c.UpdatedAt = issuance.BankCardActive, now
		require.NoError(t, st.UpdateCard(ctx, &c))
		card(issuance.CardEventConfirmed, issuance.CardChangeRenew, "renewed", "00")
		card(issuance.CardEventRequested, issuance.CardChangeBlock, "", "") // no event of its own
		card(issuance.CardEventRefused, issuance.CardChangeBlock, "do not honour", "05")
		card(issuance.CardEventRequested, issuance.CardChangeClose, "holder_left 张三 毕业 13812345678", "")
		// A request rolled back leaves no event.
		require.Error(t, st.InTx(ctx, func(ctx context.Context) error {
			if err := st.AppendCardEvent(ctx, &issuance.CardEvent{CardID: c.ID, Kind: issuance.CardEventRequested,
				Change: issuance.CardChangeRenew, At: now}); err != nil {
				return err
			}
			return errors.New("roll back")
		}))
		c.State = issuance.BankCardClosed
		require.NoError(t, st.UpdateCard(ctx, &c))
		card(issuance.CardEventConfirmed, issuance.CardChangeClose, "holder_left", "00") // card.closed came with the state
		ended, err := st.EndEnrolments(ctx, v.ID, c.ID, now.Add(time.Hour), insurance.Day(now), "closed")
		require.NoError(t, err)
		require.True(t, ended)
		ended, err = st.EndEnrolments(ctx, v.ID, c.ID, now.Add(time.Hour), insurance.Day(now), "closed")
		require.NoError(t, err)
		require.False(t, ended, "ended once")

		m := rebates.Month{Month: "2026-10", Advices: 2, NetFen: 1000, Statements: 1, GeneratedAt: now}
		sts := []rebates.Statement{{Month: "2026-10", OrgID: city.ID, OrgPath: city.Path, OrgKind: issuance.OrgCity,
			OrgName: city.Name, Totals: rebates.Line{Advices: 2, SpendingFen: 1200, RefundFen: 200, NetFen: 1000,
				DonationFen: 5, FoundationFen: 1, ReturnedFen: 4}}}
		require.NoError(t, st.SaveMonth(ctx, &m, sts))

		vol, err := st.GetVolunteer(ctx, v.ID, issuance.Scope{})
		require.NoError(t, err)
		vol.Name, vol.PhoneSealed = "张小三", []byte{7, 7}
		require.NoError(t, st.UpdateVolunteer(ctx, &vol))
		require.NoError(t, st.SetPlatformNumber(ctx, platformlink.NumberChange{VolunteerID: v.ID, To: "GD-000123",
			Source: platformlink.NumberFromPlatform, Reason: "registration request 1", At: now}))

		all := readAll(t, st, issuance.Scope{})[start:]
		require.Equal(t, []string{"insurance.enrolled", "card.renewal_requested", "card.renewed", "card.change_refused",
			"card.close_requested", "card.closed", "insurance.ended", "rebate_statement.generated",
			"volunteer.updated", "volunteer.updated"}, typesOf(all))
		data := func(i int) map[string]any {
			var d map[string]any
			require.NoError(t, json.Unmarshal(all[i].Data, &d))
			return d
		}
		require.Equal(t, "insurance_enrolment", all[0].Subject.Type)
		require.EqualValues(t, en.ID, data(0)["enrolment_id"])
		require.EqualValues(t, ps[0].CoverFen, data(0)["cover_fen"])
		require.Equal(t, "renew", data(1)["change"])
		require.Equal(t, "8765", data(2)["last_four"])
		require.EqualValues(t, c.ID, data(2)["renewed_card_id"])
		require.Equal(t, true, data(2)["same_pan"])
		require.Equal(t, "2612", data(2)["expiry"])
		require.Equal(t, "block", data(3)["change"])
		require.Equal(t, "05", data(3)["result_code"])
		require.Equal(t, "holder_left", data(4)["close_reason"], "the reason code, not the staff's note")
		require.Equal(t, "closed", data(5)["state"])
		require.Equal(t, "closed", data(6)["end_reason"])
		require.Equal(t, "2026-10", data(7)["month"])
		require.EqualValues(t, 1000, data(7)["net_fen"])
		require.EqualValues(t, 4, data(7)["returned_fen"])
		require.Equal(t, []any{"name", "phone"}, data(8)["fields"])
		require.Equal(t, []any{"volunteer_number"}, data(9)["fields"])
		require.Equal(t, "GD-000123", data(9)["volunteer_number"])
		for _, e := range all {
			for _, secret := range []string{"张三", "张小三", "13812345678", "毕业"} {
				require.NotContains(t, string(e.Data), secret, e.Type)
			}
		}
		// Scope: the city sees every one; another subtree none; the bank
		// its card events only.
		require.Len(t, readAll(t, st, issuance.Scope{PathPrefix: city.Path})[start:], len(all))
		require.Empty(t, readAll(t, st, issuance.Scope{PathPrefix: "/99/"}))
		bank := readAll(t, st, issuance.Scope{BankCode: "CCB"})
		require.Equal(t, []string{"card.renewal_requested", "card.renewed", "card.change_refused", "card.close_requested",
			"card.closed"}, typesOf(bank[len(bank)-5:]))
	})
}
