package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// starsEvent is a stars_changed event as check-in records it.
func starsEvent(detail string) checkin.Event {
	return checkin.Event{Kind: checkin.EventStarsChanged, ActorTokenID: 9, ActorRole: issuance.RoleTerminal,
		Detail: detail, At: now}
}

// TestWriteTap checks the one-statement tap write on PostgreSQL: a
// check-in, a check-out crossing a star threshold (the tap row holds the
// totals before and after, which is what the threshold is judged on; the
// stored level is left as it was until ChangeStars, which makes the change
// and its event once), and a check-out of an attendance closed meanwhile,
// which writes nothing at all.
func TestWriteTap(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	_, city, v := base(t, st)
	require.True(t, st.CanWriteTap())
	act := checkin.Activity{OrgID: city.ID, OrgPath: city.Path, Title: "义诊", StartsAt: now.Add(-time.Hour),
		EndsAt: now.Add(5 * time.Hour), CreatedAt: now}
	require.NoError(t, st.CreateActivity(ctx, &act))
	_, err := st.AddMinutes(ctx, v.ID, 2026, 59)
	require.NoError(t, err)

	var attendanceID int64
	thresholds := []float64{1, 2} // hours
	write := func(seq int64, at checkin.Attendance, checkOut bool, minutes int64) (checkin.TapWritten, error) {
		return st.WriteTap(ctx, checkin.TapWrite{Attendance: at, CheckOut: checkOut,
			Tap: checkin.TapRecord{TerminalID: "T", Seq: seq, ActivityID: act.ID, VolunteerID: v.ID, Kind: checkin.TapIn,
				At: now, PANToken: []byte("tok"), Fingerprint: []byte{byte(seq)}, EvidenceHash: []byte{byte(seq)},
				CreatedAt: now, ActivityTitle: act.Title, VolunteerName: v.Name, CheckedInAt: now,
				SessionMinutes: minutes}})
	}

	t.Run("check-in", func(t *testing.T) {
		w, err := write(1, checkin.Attendance{ActivityID: act.ID, VolunteerID: v.ID, OrgPath: act.OrgPath,
			InAt: now, Year: 2026}, false, 0)
		require.NoError(t, err)
		require.NotZero(t, w.Tap.ID)
		require.NotZero(t, w.Tap.AttendanceID)
		require.Equal(t, []int64{59, 59, 59}, []int64{w.Tap.YearMinutes, w.Tap.LifetimeMinutesBefore, w.Tap.LifetimeMinutes})
		require.Equal(t, 0, w.Stars)
		stored, err := st.GetTap(ctx, "T", 1)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(w.Tap, stored), "the tap row reads back as written")
	})
	t.Run("check-out crossing a star", func(t *testing.T) {
		open, err := st.OpenAttendance(ctx, act.ID, v.ID)
		require.NoError(t, err)
		open.OutAt, open.Minutes = now.Add(time.Hour), 60
		w, err := write(2, open, true, 60)
		require.NoError(t, err)
		require.Equal(t, open.ID, w.Tap.AttendanceID)
		attendanceID = open.ID
		require.Equal(t, int64(119), w.Tap.YearMinutes)
		require.Equal(t, int64(59), w.Tap.LifetimeMinutesBefore)
		require.Equal(t, int64(119), w.Tap.LifetimeMinutes)
		require.Equal(t, 0, w.Stars, "the write leaves the stored level")
		require.Equal(t, 0, checkin.StarsFor(w.Tap.LifetimeMinutesBefore, thresholds))
		require.Equal(t, 1, checkin.StarsFor(w.Tap.LifetimeMinutes, thresholds))
		stored, err := st.GetTap(ctx, "T", 2)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(w.Tap, stored), "the tap row reads back as written")
		evs, err := st.ListCheckinEvents(ctx, v.ID)
		require.NoError(t, err)
		require.Empty(t, evs, "the write records no star change")

		change := checkin.StarsChange{VolunteerID: v.ID, From: 0, To: 1, Lifetime: 119,
			Event: starsEvent(`{"from":0,"lifetime_minutes":119,"to":1}`)}
		ok, err := st.ChangeStars(ctx, change)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = st.ChangeStars(ctx, change)
		require.NoError(t, err)
		require.False(t, ok, "a change is made once")
		evs, err = st.ListCheckinEvents(ctx, v.ID)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.JSONEq(t, `{"from":0,"to":1,"lifetime_minutes":119}`, evs[0].Detail)
	})
	t.Run("attendance closed meanwhile", func(t *testing.T) {
		open, err := st.GetAttendance(ctx, attendanceID, issuance.Scope{})
		require.NoError(t, err)
		open.OutAt, open.Minutes = now.Add(2*time.Hour), 120
		_, err = write(3, open, true, 120)
		var ce *issuance.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "open_attendance", ce.What)
		_, err = st.GetTap(ctx, "T", 3)
		require.ErrorIs(t, err, issuance.ErrNotFound)
		ys, err := st.HoursByYear(ctx, v.ID)
		require.NoError(t, err)
		require.Equal(t, []checkin.YearMinutes{{Year: 0, Minutes: 119, Stars: 1}, {Year: 2026, Minutes: 119}}, ys)
	})
}

// TestChangeStars checks the compare-and-set of the stored star level on
// both stores: a change decided from a level or a total the row no longer
// holds is not made and records nothing; a current one is made once, with
// its event.
func TestChangeStars(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, _, v := base(t, st)
		_, err := st.AddMinutes(ctx, v.ID, 2026, 130)
		require.NoError(t, err)
		for _, tc := range []struct {
			name     string
			from, to int
			lifetime int64
			made     bool
		}{
			{"stale total", 0, 1, 70, false},
			{"stale level", 1, 2, 130, false},
			{"current", 0, 2, 130, true},
			{"again", 0, 2, 130, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ok, err := st.ChangeStars(ctx, checkin.StarsChange{VolunteerID: v.ID, From: tc.from, To: tc.to,
					Lifetime: tc.lifetime, Event: starsEvent(`{"from":0,"to":2}`)})
				require.NoError(t, err)
				require.Equal(t, tc.made, ok)
			})
		}
		ys, err := st.HoursByYear(ctx, v.ID)
		require.NoError(t, err)
		require.Equal(t, []checkin.YearMinutes{{Year: 0, Minutes: 130, Stars: 2}, {Year: 2026, Minutes: 130}}, ys)
		evs, err := st.ListCheckinEvents(ctx, v.ID)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, checkin.Event{ID: evs[0].ID, Kind: checkin.EventStarsChanged, VolunteerID: v.ID,
			ActorTokenID: 9, ActorRole: issuance.RoleTerminal, Detail: `{"from":0,"to":2}`, At: now}, evs[0])
	})
}

// TestTapRecordRoundTrip checks that a tap row reads back exactly as it was
// written on both stores, the totals and the note included, times to the
// nanosecond: a replay is answered from it.
func TestTapRecordRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, city, v := base(t, st)
		act := checkin.Activity{OrgID: city.ID, OrgPath: city.Path, Title: "义诊", StartsAt: now, EndsAt: now.Add(time.Hour),
			CreatedAt: now}
		require.NoError(t, st.CreateActivity(ctx, &act))
		at := now.Add(1234567 * time.Nanosecond)
		att := checkin.Attendance{ActivityID: act.ID, VolunteerID: v.ID, OrgPath: act.OrgPath, InAt: now, Year: 2026}
		rec := checkin.TapRecord{TerminalID: "T", Seq: 1, ActivityID: act.ID, VolunteerID: v.ID, Kind: checkin.TapOut,
			At: at, OfflineEvidence: true, PANToken: []byte("tok"), Fingerprint: []byte{1}, EvidenceHash: []byte{2},
			CreatedAt: now, ActivityTitle: act.Title, VolunteerName: v.Name, CheckedInAt: at.Add(-time.Hour),
			SessionMinutes: 60, YearMinutes: 70, LifetimeMinutesBefore: 40, LifetimeMinutes: 100}
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
			return st.RecordTap(ctx, &att, false, &rec)
		}))
		require.NotZero(t, rec.ID)
		got, err := st.GetTap(ctx, "T", 1)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(rec, got))
	})
}
