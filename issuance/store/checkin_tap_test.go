package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestWriteTap checks the one-statement tap write on PostgreSQL: a
// check-in, a check-out crossing a star threshold (event written, result
// completed with the totals), and a check-out of an attendance closed
// meanwhile, which writes nothing at all.
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
	tiers := []checkin.BenefitTier{checkin.TierCardHolder, checkin.TierStar, checkin.TierFiveStar}
	write := func(seq int64, at checkin.Attendance, checkOut bool, delta int64) (checkin.TapWritten, error) {
		head := `{"kind":"x","volunteer_id":` + jsonInt(v.ID)
		return st.WriteTap(ctx, checkin.TapWrite{Attendance: at, CheckOut: checkOut, Delta: delta,
			StarMinutes: []int64{60, 120}, Tiers: tiers,
			Tap: checkin.TapRecord{TerminalID: "T", Seq: seq, ActivityID: act.ID, VolunteerID: v.ID, Kind: checkin.TapIn,
				At: now, PANToken: []byte("tok"), Fingerprint: []byte{byte(seq)}, EvidenceHash: []byte{byte(seq)},
				Result: []byte(head), CreatedAt: now},
			Event: checkin.Event{Kind: checkin.EventStarsChanged, ActorTokenID: 9,
				ActorRole: issuance.RoleTerminal, At: now}})
	}

	t.Run("check-in", func(t *testing.T) {
		w, err := write(1, checkin.Attendance{ActivityID: act.ID, VolunteerID: v.ID, OrgPath: act.OrgPath,
			InAt: now, Year: 2026}, false, 0)
		require.NoError(t, err)
		require.Equal(t, checkin.TapWritten{TapID: w.TapID, AttendanceID: w.AttendanceID, YearMinutes: 59,
			LifetimeMinutes: 59}, w)
	})
	t.Run("check-out crossing a star", func(t *testing.T) {
		open, err := st.OpenAttendance(ctx, act.ID, v.ID)
		require.NoError(t, err)
		open.OutAt, open.Minutes = now.Add(time.Hour), 60
		w, err := write(2, open, true, 60)
		require.NoError(t, err)
		require.Equal(t, open.ID, w.AttendanceID)
		attendanceID = open.ID
		require.Equal(t, int64(119), w.LifetimeMinutes)
		require.Equal(t, 1, w.Stars)
		require.Equal(t, 0, w.StarsBefore)
		tap, err := st.GetTap(ctx, "T", 2)
		require.NoError(t, err)
		var res checkin.TapResult
		require.NoError(t, json.Unmarshal(tap.Result, &res))
		require.Equal(t, checkin.TapResult{Kind: "x", VolunteerID: v.ID, YearMinutes: 119, LifetimeMinutes: 119,
			Stars: 1, Tier: checkin.TierStar}, res)
		evs, err := st.ListCheckinEvents(ctx, v.ID)
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

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
