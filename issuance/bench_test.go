package issuance_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// BenchmarkApplyCancel measures, on PostgreSQL and in parallel, one
// Service.Apply (volunteer read + application and event inserts in one
// transaction) followed by one Service.Cancel (read + conditional update +
// event insert) per op, so volunteers can apply again.
func BenchmarkApplyCancel(b *testing.B) {
	ctx := context.Background()
	f := issuancetest.New(b, storetest.Postgres(b))
	vols := make([]issuance.Volunteer, 0, 512)
	for i := 0; i < cap(vols); i++ {
		v, err := f.Svc.RegisterVolunteer(ctx, f.Sys, issuance.NewVolunteer{
			OrgID: f.Guangzhou.ID, Name: "张三", Phone: "13812345678",
			IDNumber: issuancetest.ResidentID(fmt.Sprintf("440102199001%02d%03d", i%28+1, i/28)),
		})
		if err != nil {
			b.Fatal(err)
		}
		vols = append(vols, v)
	}
	var next atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 cores, like concurrent HTTP clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine owns a disjoint set of volunteers.
		base := int(next.Add(1)-1) * 16
		i := 0
		for pb.Next() {
			v := vols[(base+i%16)%len(vols)]
			i++
			a, err := f.Svc.Apply(ctx, f.GzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := f.Svc.Cancel(ctx, f.GzAdmin, a.ID, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRenewalBatch measures, on PostgreSQL, one renewal batch of 500
// expired cards of handed-over applications (Service.RequestRenewals: the
// selection, the batch and its items, then per card in its own
// transaction the scope check, the card's pending change, the outbox row
// and the card event). The cards are made outside the timing.
func BenchmarkRenewalBatch(b *testing.B) {
	const cards = 500
	ctx := context.Background()
	st := storetest.Postgres(b)
	f := issuancetest.New(b, st)
	svc, err := issuance.NewService(st, issuancetest.Keys(b), issuance.WithClock(f.Clock), issuance.WithBankOutbox(st))
	if err != nil {
		b.Fatal(err)
	}
	seq := 0
	for b.Loop() {
		b.StopTimer()
		org, err := svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{ParentID: f.Guangzhou.ID, Kind: issuance.OrgUniversity,
			Name: fmt.Sprintf("大学%d", seq)})
		if err != nil {
			b.Fatal(err)
		}
		for range cards {
			seq++
			v, err := svc.RegisterVolunteer(ctx, f.Sys, issuance.NewVolunteer{OrgID: org.ID, Name: "续卡", Phone: "13812345678",
				IDNumber: issuancetest.ResidentID(fmt.Sprintf("4401021990%02d%02d%03d", 1+seq/28000%12, seq/1000%28+1, seq%1000))})
			if err != nil {
				b.Fatal(err)
			}
			a, err := svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelBranch)
			if err != nil {
				b.Fatal(err)
			}
			for _, to := range []issuance.Status{issuance.StatusApproved, issuance.StatusBankPending, issuance.StatusBankApproved,
				issuance.StatusPersonalized, issuance.StatusIssued} {
				if _, err := svc.Transition(ctx, f.Sys, a.ID, to, "bench"); err != nil {
					b.Fatal(err)
				}
			}
			pan := fmt.Sprintf("621785%013d", seq)
			if err := st.CreateCard(ctx, &issuance.Card{ApplicationID: a.ID, PANToken: svc.PANToken(pan), PANSealed: []byte("sealed"),
				LastFour: pan[len(pan)-4:], Expiry: "2610", PSN: "001", State: issuance.BankCardExpired, CreatedAt: f.Clock.Now()}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		batch, err := svc.RequestRenewals(ctx, f.GzAdmin, issuance.RenewalRequest{OrgID: org.ID, ExpiredOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		if p := batch.Progress(); p[issuance.RenewalPending] != cards {
			b.Fatalf("progress %v", p)
		}
	}
	b.ReportMetric(float64(cards)*float64(b.N)/b.Elapsed().Seconds(), "cards/s")
}
