package checkin

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestResultHeadCoversTapResult checks that the result head and the totals
// the TapWriter appends are together exactly TapResult's JSON fields.
func TestResultHeadCoversTapResult(t *testing.T) {
	keys := func(b []byte) []string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	full, err := json.Marshal(TapResult{})
	require.NoError(t, err)
	head, err := resultHead(TapResult{})
	require.NoError(t, err)
	joined := string(head) + `,"year_minutes":0,"lifetime_minutes":0,"stars":0,"stars_before":0,"tier":""}`
	require.Equal(t, keys(full), keys([]byte(joined)))
}

// TestStarMinutes checks that counting the threshold minutes reached gives
// StarsFor.
func TestStarMinutes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		thresholds []float64
	}{
		{"default", DefaultStarThresholds},
		{"fractional", []float64{0.01, 0.5, 1.0 / 3, 100.01, 299.99}},
		{"unreachable", []float64{1, math.Inf(1), math.NaN()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sm := starMinutes(tc.thresholds)
			for _, m := range []int64{0, 1, 19, 20, 30, 59, 60, 6000, 6001, 17999, 18000, 89999, 90000, 1 << 40} {
				n := 0
				for _, x := range sm {
					if x <= m {
						n++
					}
				}
				require.Equal(t, StarsFor(m, tc.thresholds), n, "minutes %d", m)
			}
		})
	}
}
