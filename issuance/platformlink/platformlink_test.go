package platformlink_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/platform"
	"github.com/volcard/volcard/platform/platformsim"
)

// link is a store, the platform simulator over loopback TCP, the HTTP
// client to it and a worker.
type link struct {
	f   *issuancetest.Fixture
	sim *platformsim.Sim
	pl  *platformlink.Service
	w   *platformlink.Worker
}

func newLink(t *testing.T, st *store.Store) *link {
	f := issuancetest.New(t, st)
	sim, err := platformsim.New(platformsim.Config{Token: "tok", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0", nil))
	t.Cleanup(sim.Close)
	c, err := platform.New(platform.Config{BaseURL: "http://" + sim.Addr(), Token: "tok", Timeout: 5 * time.Second})
	require.NoError(t, err)
	pl, err := platformlink.New(f.Svc, st)
	require.NoError(t, err)
	w, err := platformlink.NewWorker(platformlink.WorkerConfig{Registrar: c, Service: f.Svc, Store: st, Owner: "test",
		RetryBase: time.Millisecond, RetryMax: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return &link{f: f, sim: sim, pl: pl, w: w}
}

var idSeq = 100

func (l *link) register(t *testing.T, source issuance.Channel, name string) (issuance.Volunteer, string) {
	t.Helper()
	idSeq++
	id := issuancetest.ResidentID(fmt.Sprintf("44010219850101%03d", idSeq))
	v, err := l.f.Svc.RegisterVolunteer(context.Background(), l.f.Sys, issuance.NewVolunteer{OrgID: l.f.Guangzhou.ID,
		Name: name, IDNumber: id, Phone: "13812345678", Source: source})
	require.NoError(t, err)
	return v, id
}

func (l *link) requests(t *testing.T) []platformlink.Request {
	t.Helper()
	rs, err := l.pl.List(context.Background(), l.f.Sys, platformlink.Filter{})
	require.NoError(t, err)
	return rs
}

func (l *link) number(t *testing.T, id int64) string {
	t.Helper()
	v, err := l.f.Svc.GetVolunteer(context.Background(), l.f.Sys, id)
	require.NoError(t, err)
	return v.VolunteerNumber
}

// TestBranchRegistrationReachesPlatform: a volunteer registered at a
// branch (and one on site) is queued with the registration, reaches the
// simulator over HTTP, and the platform's number is written back; people
// registered by the platform or the console are not sent.
func TestBranchRegistrationReachesPlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		l := newLink(t, st)
		branch, branchID := l.register(t, issuance.ChannelBranch, "陈柜台")
		site, siteID := l.register(t, issuance.ChannelOnSite, "林现场")
		l.register(t, issuance.ChannelConsole, "王后台")
		l.register(t, issuance.ChannelPlatform, "赵平台")
		rs := l.requests(t)
		require.Len(t, rs, 2)
		n, err := l.w.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		for _, p := range []struct {
			v  issuance.Volunteer
			id string
		}{{branch, branchID}, {site, siteID}} {
			want, ok := l.sim.Lookup("resident_id", p.id)
			require.True(t, ok, "the platform holds the person")
			require.Equal(t, want, l.number(t, p.v.ID))
		}
		for _, r := range l.requests(t) {
			require.Equal(t, platformlink.StateDone, r.State)
			require.False(t, r.Matched)
		}
		require.Equal(t, 2, l.sim.Registered())
		n, err = l.w.RunOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to send")
	})
}

// TestMatchedNotDuplicated: someone the platform already holds is matched
// (same number, no new record).
func TestMatchedNotDuplicated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		l := newLink(t, st)
		idSeq++
		id := issuancetest.ResidentID(fmt.Sprintf("44010219850101%03d", idSeq))
		existing := l.sim.Add("resident_id", id, "黄已注")
		v, err := l.f.Svc.RegisterVolunteer(context.Background(), l.f.Sys, issuance.NewVolunteer{OrgID: l.f.Guangzhou.ID,
			Name: "黄已注", IDNumber: id, Phone: "13812345678", Source: issuance.ChannelBranch})
		require.NoError(t, err)
		_, err = l.w.RunOnce(context.Background())
		require.NoError(t, err)
		require.Equal(t, existing, l.number(t, v.ID))
		require.Equal(t, 1, l.sim.Registered())
		rs := l.requests(t)
		require.Len(t, rs, 1)
		require.True(t, rs[0].Matched)
	})
}

// TestFailuresRetriedAndVisible: a 503 is tried again after the back-off;
// a refusal (another name under the ID number) ends failed with the
// platform's reason, stays failed, and an operator's retry sends it again.
func TestFailuresRetriedAndVisible(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		l := newLink(t, st)
		v, _ := l.register(t, issuance.ChannelBranch, "周重试")
		l.sim.FailNext(1, 503)
		_, err := l.w.RunOnce(ctx)
		require.NoError(t, err)
		r := l.requests(t)[0]
		require.Equal(t, platformlink.StatePending, r.State)
		require.Equal(t, 1, r.Attempts)
		require.Contains(t, r.LastError, "503")
		require.Empty(t, l.number(t, v.ID))
		time.Sleep(5 * time.Millisecond)
		_, err = l.w.RunOnce(ctx)
		require.NoError(t, err)
		require.NotEmpty(t, l.number(t, v.ID))

		idSeq++
		id := issuancetest.ResidentID(fmt.Sprintf("44010219850101%03d", idSeq))
		l.sim.Add("resident_id", id, "别的名字")
		w, err := l.f.Svc.RegisterVolunteer(ctx, l.f.Sys, issuance.NewVolunteer{OrgID: l.f.Guangzhou.ID,
			Name: "吴冲突", IDNumber: id, Phone: "13812345678", Source: issuance.ChannelBranch})
		require.NoError(t, err)
		_, err = l.w.RunOnce(ctx)
		require.NoError(t, err)
		failed, err := l.pl.List(ctx, l.f.Sys, platformlink.Filter{State: platformlink.StateFailed})
		require.NoError(t, err)
		require.Len(t, failed, 1)
		require.Equal(t, w.ID, failed[0].VolunteerID)
		require.Contains(t, failed[0].LastError, "name_mismatch")
		require.NotContains(t, failed[0].LastError, id, "no ID number in the error")
		n, err := l.w.RunOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "a failed row waits for an operator")

		_, err = l.pl.Retry(ctx, l.f.GzAdmin, failed[0].ID, "")
		require.ErrorIs(t, err, issuance.ErrForbidden)
		_, err = l.pl.Retry(ctx, l.f.Sys, v.ID+1000, "")
		require.ErrorIs(t, err, issuance.ErrNotFound)
		r, err = l.pl.Retry(ctx, l.f.Sys, failed[0].ID, "姓名已在平台更正")
		require.NoError(t, err)
		require.Equal(t, platformlink.StatePending, r.State)
		_, err = l.pl.Retry(ctx, l.f.Sys, failed[0].ID, "")
		require.ErrorIs(t, err, platformlink.ErrNotFailed)
		calls := l.sim.Calls()
		n, err = l.w.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, calls+1, l.sim.Calls(), "sent again")
	})
}

// TestSetNumber: staff set a number later; a number another volunteer
// holds is a conflict and changes nothing; the open request is closed.
func TestSetNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		l := newLink(t, st)
		a, _ := l.register(t, issuance.ChannelBranch, "甲")
		b, _ := l.register(t, issuance.ChannelConsole, "乙")
		_, err := l.pl.SetNumber(ctx, l.f.GzAdmin, a.ID, "GD-0001", "")
		require.ErrorIs(t, err, issuance.ErrInvalid, "reason required")
		_, err = l.pl.SetNumber(ctx, l.f.MzAdmin, a.ID, "GD-0001", "补录")
		require.ErrorIs(t, err, issuance.ErrNotFound, "out of scope")
		v, err := l.pl.SetNumber(ctx, l.f.GzAdmin, a.ID, "GD-0001", "补录平台编号")
		require.NoError(t, err)
		require.Equal(t, "GD-0001", v.VolunteerNumber)
		_, err = l.pl.SetNumber(ctx, l.f.GzAdmin, b.ID, "GD-0001", "补录")
		var ce *issuance.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "platform_number", ce.What)
		require.Empty(t, l.number(t, b.ID))
		rs := l.requests(t)
		require.Len(t, rs, 1)
		require.Equal(t, platformlink.StateDone, rs[0].State, "the open request is closed")
		n, err := l.w.RunOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Zero(t, l.sim.Calls())
	})
}

// TestOnSiteRosterIsQueued: volunteers created in bulk (an on-site
// session's roster, store.CreateVolunteers) get their requests in the same
// transaction; a failed transaction leaves neither.
func TestOnSiteRosterIsQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		l := newLink(t, st)
		var vs []*issuance.Volunteer
		for i := range 3 {
			idSeq++
			v, err := l.f.Svc.PrepareVolunteer(issuance.NewVolunteer{OrgID: l.f.Guangzhou.ID, Name: fmt.Sprintf("现场%d", i),
				IDNumber: issuancetest.ResidentID(fmt.Sprintf("44010219850101%03d", idSeq)), Phone: "13812345678",
				Source: issuance.ChannelOnSite}, issuancetest.Now)
			require.NoError(t, err)
			v.OrgPath = l.f.Guangzhou.Path
			vs = append(vs, &v)
		}
		boom := fmt.Errorf("roster refused")
		err := st.InTx(ctx, func(ctx context.Context) error {
			require.NoError(t, st.CreateVolunteers(ctx, vs[:1]))
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Empty(t, l.requests(t), "rolled back with the volunteer")
		for _, v := range vs {
			v.ID = 0
		}
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error { return st.CreateVolunteers(ctx, vs) }))
		rs := l.requests(t)
		require.Len(t, rs, 3)
		_, err = l.w.RunOnce(ctx)
		require.NoError(t, err)
		for _, v := range vs {
			require.NotEmpty(t, l.number(t, v.ID))
		}
	})
}
