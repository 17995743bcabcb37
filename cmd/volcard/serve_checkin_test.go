package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/emv"
)

func TestCheckinConfig(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		env  map[string]string
		want func(t *testing.T, c checkin.Config)
		bad  bool
	}{
		{"defaults", map[string]string{envCAKeys: "../../testdata/keys/ca-public.json"}, func(t *testing.T, c checkin.Config) {
			require.Len(t, c.Verifier.(emv.EvidenceVerifier).CAs, 1)
			require.Zero(t, c.Rounding)
		}, false},
		{"rounding with mode", map[string]string{envCAKeys: "../../testdata/keys/ca-public.json", envCheckinRounding: "nearest:30m"},
			func(t *testing.T, c checkin.Config) {
				require.Equal(t, checkin.Rounding{Unit: 30 * time.Minute, Mode: checkin.RoundNearest}, c.Rounding)
			}, false},
		{"rounding unit only", map[string]string{envCAKeys: "../../testdata/keys/ca-public.json", envCheckinRounding: "15m"},
			func(t *testing.T, c checkin.Config) {
				require.Equal(t, checkin.Rounding{Unit: 15 * time.Minute, Mode: checkin.RoundDown}, c.Rounding)
			}, false},
		{"thresholds and member hours", map[string]string{envCAKeys: "../../testdata/keys/ca-public.json",
			envStarThresholds: "50, 100", envMemberHours: "24", envChallengeTTL: "30s"}, func(t *testing.T, c checkin.Config) {
			require.Equal(t, []float64{50, 100}, c.StarThresholds)
			require.Equal(t, float64(24), c.MemberExpectation)
			require.Equal(t, 30*time.Second, c.ChallengeTTL)
		}, false},
		{"bad CA file", map[string]string{envCAKeys: "/nonexistent.json"}, nil, true},
		{"bad rounding", map[string]string{envCAKeys: "../../testdata/keys/ca-public.json", envCheckinRounding: "down:x"}, nil, true},
		{"bad thresholds", map[string]string{envCAKeys: "../../testdata/keys/ca-public.json", envStarThresholds: "1,a"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := checkinConfig(env(tc.env), log)
			if tc.bad {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			tc.want(t, c)
		})
	}
}
