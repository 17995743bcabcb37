package checkin

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTapResultCoversRecord checks that a tap's result is wholly built from
// its record: every field of TapResult but Replayed comes out set from a
// record with every field set, and the star levels and the tier are the
// rule's (StarsFor, TierFor) over the record's lifetime totals.
func TestTapResultCoversRecord(t *testing.T) {
	c := &Service{cfg: Config{StarThresholds: []float64{1, 2.5}}}
	at := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	rec := TapRecord{ID: 1, TerminalID: "T", Seq: 2, ActivityID: 3, VolunteerID: 4, AttendanceID: 5, Kind: TapOut,
		At: at, OfflineEvidence: true, PANToken: []byte{6}, Fingerprint: []byte{7}, EvidenceHash: []byte{8},
		CreatedAt: at, ActivityTitle: "义诊", VolunteerName: "张晓明", CheckedInAt: at.Add(-time.Hour),
		SessionMinutes: 60, YearMinutes: 170, LifetimeMinutesBefore: 100, LifetimeMinutes: 160}
	res := c.tapResult(rec)
	v := reflect.ValueOf(res)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if name == "Replayed" {
			continue
		}
		require.False(t, v.Field(i).IsZero(), "TapResult.%s is not built from the record", name)
	}
	require.Equal(t, TapResult{TapID: 1, Kind: TapOut, ActivityID: 3, ActivityTitle: "义诊", VolunteerID: 4,
		VolunteerName: "张晓明", At: at, CheckedInAt: at.Add(-time.Hour), SessionMinutes: 60, YearMinutes: 170,
		LifetimeMinutes: 160, Stars: 2, StarsBefore: 1, Tier: TierFiveStar, OfflineEvidence: true}, res)

	rec.LifetimeMinutesBefore, rec.LifetimeMinutes = 40, 100
	res = c.tapResult(rec)
	require.Equal(t, []any{1, 0, TierStar}, []any{res.Stars, res.StarsBefore, res.Tier})
}
