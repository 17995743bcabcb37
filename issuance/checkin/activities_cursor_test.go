package checkin

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/volcard/volcard/issuance"
)

// TestActivityCursor checks that activity cursors round-trip and that
// malformed ones (including other lists' cursors) are validation errors.
func TestActivityCursor(t *testing.T) {
	start := time.Date(2026, 11, 23, 1, 0, 0, 123456000, time.UTC)
	at, id, err := decodeActivityCursor(encodeActivityCursor(start, 42))
	require.NoError(t, err)
	require.True(t, at.Equal(start))
	require.Equal(t, int64(42), id)
	for name, c := range map[string]string{
		"not base64":         "!!",
		"application cursor": issuance.EncodeIDCursor("a1:", 12),
		"session cursor":     issuance.EncodeIDCursor("s1:", 12),
		"no id":              "dDE6MTIz",     // t1:123
		"zero id":            "dDE6MTIzOjA",  // t1:123:0
		"bad time":           "dDE6eHl6OjEy", // t1:xyz:12
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := decodeActivityCursor(c)
			require.ErrorIs(t, err, issuance.ErrInvalid)
		})
	}
}

// FuzzActivityCursor checks that decoding never panics, fails only with a
// validation error, and that whatever decodes encodes back to a cursor
// that decodes to the same values.
func FuzzActivityCursor(f *testing.F) {
	f.Add(encodeActivityCursor(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC), 1))
	f.Add(issuance.EncodeIDCursor("a1:", 7))
	f.Add("dDE6MTIzOjA")
	f.Add("")
	f.Fuzz(func(t *testing.T, c string) {
		at, id, err := decodeActivityCursor(c)
		if err != nil {
			if !errors.Is(err, issuance.ErrInvalid) {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		at2, id2, err := decodeActivityCursor(encodeActivityCursor(at, id))
		if err != nil || !at2.Equal(at) || id2 != id || id <= 0 {
			t.Fatalf("round trip of %q: %v %v %d %d", c, err, at2, id2, id)
		}
	})
}
