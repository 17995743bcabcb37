package bankgw_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
)

func TestMemorySTAN(t *testing.T) {
	ctx := context.Background()
	day1 := time.Date(2026, 11, 23, 23, 59, 59, 0, time.UTC)
	var m bankgw.MemorySTAN
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"first of the day", day1, "000001"},
		{"second", day1, "000002"},
		{"next UTC day starts again", day1.Add(time.Second), "000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Next(ctx, tc.at)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestFileSTAN(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stan")
	day := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

	t.Run("restart never reuses a STAN of the same day", func(t *testing.T) {
		f, err := bankgw.NewFileSTAN(path, 10)
		require.NoError(t, err)
		for i := 1; i <= 12; i++ {
			_, err := f.Next(ctx, day)
			require.NoError(t, err)
		}
		// simulated crash: a new allocator on the same file
		g, err := bankgw.NewFileSTAN(path, 10)
		require.NoError(t, err)
		got, err := g.Next(ctx, day)
		require.NoError(t, err)
		require.Equal(t, "000021", got)
	})
	t.Run("a new day starts at 000001", func(t *testing.T) {
		g, err := bankgw.NewFileSTAN(path, 10)
		require.NoError(t, err)
		got, err := g.Next(ctx, day.AddDate(0, 0, 1))
		require.NoError(t, err)
		require.Equal(t, "000001", got)
	})
	t.Run("bad arguments", func(t *testing.T) {
		_, err := bankgw.NewFileSTAN("", 10)
		require.ErrorIs(t, err, bankgw.ErrInvalidConfig)
	})
}

func TestRRN(t *testing.T) {
	at := time.Date(2026, 4, 24, 14, 5, 0, 0, time.UTC)
	require.Equal(t, "611414000123", bankgw.NewRRN(at, "000123"))
	require.Len(t, bankgw.NewRRN(at, "000123"), 12)
}
