package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

type fixedHealth bankgw.Health

func (h fixedHealth) Health() bankgw.Health { return bankgw.Health(h) }

// TestClaimByBank: a worker of one bank's link claims only the rows of that
// bank's applications; the per-bank backlog, the operators' list by bank
// and the per-bank gauges agree (both dialects).
func TestClaimByBank(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, envOpts{noSim: true})
		sys := issuance.SystemActor()
		require.NoError(t, e.svc.PutBank(ctx, sys, issuance.Bank{Code: "CEB", Name: "光大银行"}))
		require.NoError(t, e.svc.PutProduct(ctx, sys, issuance.Product{Code: "GD-RV-CEB", Name: "注册志愿者证（光大银行）",
			BankCode: "CEB", BIN: "622660", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: e.province.ID}))
		boc, _ := e.approved(ctx)
		v, err := e.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: e.city.ID, Name: "李四",
			IDNumber: residentID(500), Phone: "13812345678", ClothingSize: "M"})
		require.NoError(t, err)
		ceb, err := e.svc.Apply(ctx, sys, v.ID, "GD-RV-CEB", issuance.ChannelOnline)
		require.NoError(t, err)
		_, err = e.svc.Approve(ctx, sys, ceb.ID)
		require.NoError(t, err)
		n, err := e.svc.SubmitApprovedToBank(ctx, 10)
		require.NoError(t, err)
		require.Equal(t, 2, n)

		backlog, err := st.BankBacklog(ctx)
		require.NoError(t, err)
		require.Len(t, backlog, 2)
		for _, b := range backlog {
			require.Equal(t, int64(1), b.Open, b.Bank)
			require.Zero(t, b.Failed, b.Bank)
			require.False(t, b.OldestOpen.IsZero(), b.Bank)
		}

		admin, err := outbox.NewAdmin(e.svc, st, quiet)
		require.NoError(t, err)
		rows, err := admin.List(ctx, sys, outbox.Filter{Bank: "CEB"})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		require.Equal(t, ceb.ID, rows[0].ApplicationID)
		_, err = admin.List(ctx, sys, outbox.Filter{Bank: "ICBC"})
		require.ErrorIs(t, err, issuance.ErrInvalid, "a bank no product uses is a typo")

		claim := func(banks ...string) []int64 {
			got, err := st.ClaimBankRequests(ctx, outbox.Claim{Owner: "t/" + strings.Join(banks, ","), Now: time.Now(),
				Lease: time.Minute, Limit: 10, Banks: banks})
			require.NoError(t, err)
			var ids []int64
			for _, r := range got {
				ids = append(ids, r.ApplicationID)
			}
			return ids
		}
		require.Empty(t, claim("PSBC"))
		require.Equal(t, []int64{ceb.ID}, claim("CEB"))
		require.Empty(t, claim("CEB"), "leased")
		require.Equal(t, []int64{boc.ID}, claim("BOC"))

		banks, err := outbox.NewBanks(map[string]outbox.LinkHealth{
			"BOC": fixedHealth{Addrs: 1, Connections: 1, SignedOn: 1, LastEcho: time.Unix(1700000000, 0)},
			"CEB": fixedHealth{Addrs: 2},
			"CCB": fixedHealth{Addrs: 1},
		}, st, quiet)
		require.NoError(t, err)
		_, err = banks.Status(ctx, issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: e.city.ID, ScopePath: e.city.Path})
		require.ErrorIs(t, err, issuance.ErrForbidden)
		status, err := banks.Status(ctx, sys)
		require.NoError(t, err)
		require.Len(t, status, 3)
		require.Equal(t, "BOC", status[0].Bank)
		require.Equal(t, 1, status[0].SignedOn)
		require.Equal(t, int64(1), status[0].Open, "in flight is still open")
		require.Equal(t, "CCB", status[1].Bank)
		require.Zero(t, status[1].Open)
		require.Equal(t, "CEB", status[2].Bank)
		require.Zero(t, status[2].SignedOn)

		reg := prometheus.NewRegistry()
		require.NoError(t, reg.Register(banks))
		require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP volcard_bank_link_signed_on Connections of this bank's link that are signed on (0 while the bank is down).
# TYPE volcard_bank_link_signed_on gauge
volcard_bank_link_signed_on{bank="BOC"} 1
volcard_bank_link_signed_on{bank="CCB"} 0
volcard_bank_link_signed_on{bank="CEB"} 0
# HELP volcard_bank_queue_depth Outbox rows of this bank still to be sent or answered (pending, in_flight, sent, waiting).
# TYPE volcard_bank_queue_depth gauge
volcard_bank_queue_depth{bank="BOC"} 1
volcard_bank_queue_depth{bank="CCB"} 0
volcard_bank_queue_depth{bank="CEB"} 1
# HELP volcard_bank_link_last_echo_timestamp_seconds Unix time of the last echo this bank answered 00; absent before the first.
# TYPE volcard_bank_link_last_echo_timestamp_seconds gauge
volcard_bank_link_last_echo_timestamp_seconds{bank="BOC"} 1.7e+09
`), "volcard_bank_link_signed_on", "volcard_bank_queue_depth", "volcard_bank_link_last_echo_timestamp_seconds"))
	})
}
