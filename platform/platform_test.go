package platform_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/testpki"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/platform"
	"github.com/volcard/volcard/platform/platformsim"
)

func person(id int64, name, idNumber string) platformlink.Person {
	return platformlink.Person{RequestID: id, Name: name, IDType: issuance.IDResident, IDNumber: pii.IDNumber(idNumber),
		Phone: pii.Phone("13812345678"), Source: issuance.ChannelBranch, BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// TestClientAgainstSimulator runs the registration contract over HTTPS
// (a test CA) against the simulator: registered, repeated under the same
// key, matched, refused, passing failures, a wrong token.
func TestClientAgainstSimulator(t *testing.T) {
	pki := testpki.New(t, "platform")
	sim, err := platformsim.New(platformsim.Config{Token: "secret", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	tlsCfg := pki.ServerConfig().Clone()
	tlsCfg.ClientAuth = tls.NoClientCert // the contract authenticates volcard by its token
	require.NoError(t, sim.Start("127.0.0.1:0", tlsCfg))
	t.Cleanup(sim.Close)
	url := "https://" + sim.Addr()
	c, err := platform.New(platform.Config{BaseURL: url, Token: "secret", CAFile: pki.CAFile, Timeout: 5 * time.Second})
	require.NoError(t, err)
	ctx := context.Background()

	n1, matched, err := c.Register(ctx, person(1, "陈一", "440102199001011234"))
	require.NoError(t, err)
	require.False(t, matched)
	require.Equal(t, "IZY000000001", n1)

	t.Run("the same request again is answered the same", func(t *testing.T) {
		n, m, err := c.Register(ctx, person(1, "陈一", "440102199001011234"))
		require.NoError(t, err)
		require.Equal(t, n1, n)
		require.False(t, m)
		require.Equal(t, 1, sim.Registered())
	})
	t.Run("another request for the same person is a match", func(t *testing.T) {
		n, m, err := c.Register(ctx, person(2, "陈一", "440102199001011234"))
		require.NoError(t, err)
		require.Equal(t, n1, n)
		require.True(t, m)
	})
	t.Run("the same key with another body is refused", func(t *testing.T) {
		_, _, err := c.Register(ctx, person(1, "陈一", "440102199001011235"))
		var re *platformlink.RefusedError
		require.ErrorAs(t, err, &re)
		require.Equal(t, platform.ProblemIdempotencyMismatch, re.Code)
	})
	t.Run("another name under the ID number is refused, without the ID number in the error", func(t *testing.T) {
		_, _, err := c.Register(ctx, person(3, "陈二", "440102199001011234"))
		var re *platformlink.RefusedError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 409, re.Status)
		require.Equal(t, platform.ProblemNameMismatch, re.Code)
		require.NotContains(t, err.Error(), "440102199001011234")
	})
	t.Run("5xx and 429 are passing", func(t *testing.T) {
		for _, st := range []int{503, 500, 429} {
			sim.FailNext(1, st)
			_, _, err := c.Register(ctx, person(4, "陈四", "440102199001011242"))
			var re *platformlink.RefusedError
			require.False(t, errors.As(err, &re), "status %d", st)
			require.Contains(t, err.Error(), strconv.Itoa(st))
		}
		n, _, err := c.Register(ctx, person(4, "陈四", "440102199001011242"))
		require.NoError(t, err)
		require.NotEmpty(t, n)
	})
	t.Run("a wrong token is refused", func(t *testing.T) {
		bad, err := platform.New(platform.Config{BaseURL: url, Token: "wrong", CAFile: pki.CAFile})
		require.NoError(t, err)
		_, _, err = bad.Register(ctx, person(5, "陈五", "440102199001011250"))
		var re *platformlink.RefusedError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 401, re.Status)
	})
	t.Run("an untrusted certificate is a passing error", func(t *testing.T) {
		sys, err := platform.New(platform.Config{BaseURL: url, Token: "secret"})
		require.NoError(t, err)
		_, _, err = sys.Register(ctx, person(6, "陈六", "440102199001011269"))
		require.Error(t, err)
		var re *platformlink.RefusedError
		require.False(t, errors.As(err, &re))
		require.NotContains(t, err.Error(), "440102199001011269")
	})
	t.Run("no server is a passing error", func(t *testing.T) {
		off, err := platform.New(platform.Config{BaseURL: "http://127.0.0.1:1", Token: "secret"})
		require.NoError(t, err)
		_, _, err = off.Register(ctx, person(7, "陈七", "440102199001011277"))
		require.Error(t, err)
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]platform.Config{
		"no URL":      {Token: "t"},
		"ftp":         {BaseURL: "ftp://x", Token: "t"},
		"no token":    {BaseURL: "https://x"},
		"missing CA":  {BaseURL: "https://x", Token: "t", CAFile: "/nonexistent.pem"},
		"no host URL": {BaseURL: "https://", Token: "t"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := platform.New(cfg)
			require.Error(t, err)
		})
	}
}

func TestRetried(t *testing.T) {
	for st, want := range map[int]bool{200: false, 201: false, 400: false, 401: false, 409: false, 422: false,
		408: true, 425: true, 429: true, 500: true, 502: true, 503: true, 302: true} {
		require.Equal(t, want, platform.Retried(st), "status %d", st)
	}
}

// FuzzDecodeAnswer: any answer body decodes or fails cleanly; a decoded
// success has a number, a decoded problem has short valid text.
func FuzzDecodeAnswer(f *testing.F) {
	files, err := filepath.Glob("testdata/answers/*")
	require.NoError(f, err)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		st, _ := strconv.Atoi(strings.SplitN(filepath.Base(p), "_", 2)[0])
		f.Add(st, b)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		a, err := platform.DecodeAnswer(status, body)
		if err != nil {
			require.ErrorIs(t, err, platform.ErrBadAnswer)
			return
		}
		if status == 200 || status == 201 {
			require.NotEmpty(t, a.Registered.VolunteerNumber)
			return
		}
		require.NotEmpty(t, a.Problem.Type)
		require.LessOrEqual(t, len([]rune(a.Problem.Detail)), 200)
		require.LessOrEqual(t, len([]rune(a.Problem.Type)), 64)
	})
}
