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
