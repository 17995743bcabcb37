package webhook_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api/webhook"
)

func TestSignAndVerify(t *testing.T) {
	const secret = "whsec_test"
	body := []byte(`{"id":1,"type":"application.submitted"}`)
	at := time.Unix(1_780_000_000, 0)
	h := webhook.Sign(secret, at, body)
	require.Regexp(t, `^t=1780000000,v1=[0-9a-f]{64}$`, h)
	for _, tc := range []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, h, body, at.Add(time.Minute), nil},
		{"valid just inside the tolerance", secret, h, body, at.Add(5 * time.Minute), nil},
		{"valid with a clock behind", secret, h, body, at.Add(-4 * time.Minute), nil},
		{"wrong secret", "whsec_other", h, body, at, webhook.ErrBadSignature},
		{"body changed", secret, h, []byte(`{"id":2,"type":"application.submitted"}`), at, webhook.ErrBadSignature},
		{"stale timestamp", secret, h, body, at.Add(6 * time.Minute), webhook.ErrStaleTimestamp},
		{"timestamp from the future", secret, h, body, at.Add(-6 * time.Minute), webhook.ErrStaleTimestamp},
		{"timestamp replaced", secret, "t=1780000100" + h[len("t=1780000000"):], body, at, webhook.ErrBadSignature},
		{"no v1", secret, "t=1780000000,v0=abc", body, at, webhook.ErrNoSignature},
		{"no timestamp", secret, h[len("t=1780000000,"):], body, at, webhook.ErrBadHeader},
		{"garbage", secret, "garbage", body, at, webhook.ErrBadHeader},
		{"second signature matches", secret, "t=1780000000,v1=" + "00" + h[len("t=1780000000,v1=")+2:] + "," + h[len("t=1780000000,"):], body, at, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.secret, tc.header, tc.body, tc.now, 0)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// FuzzParseHeader: any header parses or fails cleanly, and a parsed one
// has a timestamp and 32-byte signatures.
func FuzzParseHeader(f *testing.F) {
	seeds, err := os.ReadFile(filepath.Join("testdata", "headers.txt"))
	require.NoError(f, err)
	for _, s := range splitLines(string(seeds)) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, err := webhook.ParseHeader(h)
		if err != nil {
			return
		}
		require.Positive(t, p.Timestamp)
		require.NotEmpty(t, p.Signatures)
		for _, s := range p.Signatures {
			require.Len(t, s, 32)
		}
		_ = webhook.Verify("k", h, []byte("x"), time.Unix(p.Timestamp, 0), 0)
	})
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
