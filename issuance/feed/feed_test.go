package feed_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []feed.Cursor{{}, {TX: 0, ID: 1}, {TX: 123456789, ID: 42}, {TX: 1<<63 + 5, ID: 1<<62 + 1}} {
		got, err := feed.ParseCursor(c.String())
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
	require.Equal(t, "", feed.Cursor{}.String())
	for _, bad := range []string{"garbage", "c1.", "c1.!!!", "c1.MTIz", "c1.LTEuMg", "c2.MC4x", strings.Repeat("c1.", 30)} {
		_, err := feed.ParseCursor(bad)
		require.ErrorIs(t, err, feed.ErrBadCursor, bad)
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://platform.example/hooks/volcard", true},
		{"http://127.0.0.1:8080/h?token=x", true},
		{"https://user:pw@x.example/", false},
		{"ftp://x.example/", false},
		{"https:///nohost", false},
		{"https://x.example/#frag", false},
		{"", false},
		{"https://x.example/" + strings.Repeat("a", 2000), false},
	} {
		t.Run(tc.url[:min(len(tc.url), 40)], func(t *testing.T) {
			err := feed.CheckURL(tc.url)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var ve *issuance.ValidationError
			require.True(t, errors.As(err, &ve))
			require.NotContains(t, ve.Reason, "pw", "the URL is not repeated")
		})
	}
}

func TestValidType(t *testing.T) {
	for _, ok := range []string{"application.submitted", "card.expired", "onsite_session.started", "checkin.tap_recorded", "volunteer.created",
		"insurance.enrolled", "insurance.ended", "rebate_statement.generated", "card.renewal_requested"} {
		require.True(t, feed.ValidType(ok), ok)
	}
	for _, bad := range []string{"", "application", "Application.submitted", "bank.x", "card.", "card.a", "card.a-b", "card.x.y", "rebate.generated"} {
		require.False(t, feed.ValidType(bad), bad)
	}
}

func seeds(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(f, err)
	for _, s := range strings.Split(string(b), "\n") {
		f.Add(s)
	}
}

// FuzzParseCursor: any text parses or fails with ErrBadCursor, and a
// parsed cursor prints back to a text that parses to it.
func FuzzParseCursor(f *testing.F) {
	seeds(f, "cursors.txt")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := feed.ParseCursor(s)
		if err != nil {
			require.ErrorIs(t, err, feed.ErrBadCursor)
			return
		}
		back, err := feed.ParseCursor(c.String())
		require.NoError(t, err)
		require.Equal(t, c, back)
	})
}

// FuzzCheckURL: any text is accepted or refused with a validation error
// that does not repeat it.
func FuzzCheckURL(f *testing.F) {
	seeds(f, "urls.txt")
	f.Fuzz(func(t *testing.T, s string) {
		err := feed.CheckURL(s)
		if err == nil {
			return
		}
		var ve *issuance.ValidationError
		require.True(t, errors.As(err, &ve))
		if len(s) > 8 {
			require.NotContains(t, ve.Reason, s)
		}
	})
}
