package feed_test

import (
	"errors"
	"net/netip"
	"net/url"
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
		{"http://203.0.113.7:8080/h?token=x", true},
		{"http://127.0.0.1:8080/h?token=x", false},
		{"http://10.1.2.3/h", false},
		{"http://172.16.0.1/h", false},
		{"http://192.168.1.1/h", false},
		{"http://100.64.0.1/h", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://0.0.0.0/h", false},
		{"http://224.0.0.1/h", false},
		{"http://[::1]:80/h", false},
		{"http://[::ffff:127.0.0.1]/h", false},
		{"http://[fd00::1]/h", false},
		{"http://[fe80::1%25eth0]/h", false},
		{"http://[::]/h", false},
		{"https://user:pw@x.example/", false},
		{"ftp://x.example/", false},
		{"https:///nohost", false},
		{"https://x.example/#frag", false},
		{"", false},
		{"https://x.example/" + strings.Repeat("a", 2000), false},
	} {
		t.Run(tc.url[:min(len(tc.url), 40)], func(t *testing.T) {
			err := feed.CheckURL(tc.url, feed.AddrPolicy{})
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

// TestCheckURLAllowed: the operator's allowed prefixes let an internal
// literal address through, and only those.
func TestCheckURLAllowed(t *testing.T) {
	p, err := feed.ParseAddrPolicy(" 127.0.0.1, 10.1.0.0/16 ,::1")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1/32,10.1.0.0/16,::1/128", p.String())
	require.NoError(t, feed.CheckURL("http://127.0.0.1:8080/h", p))
	require.NoError(t, feed.CheckURL("http://10.1.200.3/h", p))
	require.NoError(t, feed.CheckURL("http://[::1]/h", p))
	require.Error(t, feed.CheckURL("http://127.0.0.2/h", p))
	require.Error(t, feed.CheckURL("http://10.2.0.1/h", p))
	for _, bad := range []string{"localhost", "10.0.0.0/33", "x/8"} {
		_, err := feed.ParseAddrPolicy(bad)
		require.Error(t, err, bad)
	}
}

func TestInternal(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "100.127.0.1", "169.254.169.254",
		"0.0.0.0", "255.255.255.255", "239.1.1.1", "::1", "::", "fc00::1", "fdff::1", "fe80::1", "ff02::1", "::ffff:10.0.0.1"} {
		require.True(t, feed.Internal(netip.MustParseAddr(s)), s)
	}
	for _, s := range []string{"8.8.8.8", "203.0.113.7", "100.128.0.1", "172.32.0.1", "2001:db8::1", "2400:3200::1"} {
		require.False(t, feed.Internal(netip.MustParseAddr(s)), s)
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
		err := feed.CheckURL(s, feed.AddrPolicy{})
		if err == nil {
			u, perr := url.Parse(s)
			require.NoError(t, perr)
			if ip, perr := netip.ParseAddr(u.Hostname()); perr == nil {
				require.False(t, feed.Internal(ip), "an internal literal address is refused")
			}
			return
		}
		var ve *issuance.ValidationError
		require.True(t, errors.As(err, &ve))
		if len(s) > 8 {
			require.NotContains(t, ve.Reason, s)
		}
	})
}
