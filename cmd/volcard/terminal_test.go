package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cancelOn is a writer that cancels a context once it has seen a string.
type cancelOn struct {
	mu     sync.Mutex
	b      strings.Builder
	when   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b.Write(p)
	if strings.Contains(c.b.String(), c.when) {
		c.cancel()
	}
	return len(p), nil
}

func (c *cancelOn) String() string { c.mu.Lock(); defer c.mu.Unlock(); return c.b.String() }

// TestTerminalStartUpCheck runs "volcard terminal" against a real serve (on
// SQLite): a token the server does not know and a token of another role
// stop it before the first card with exit 2 and what to do; an unreachable
// server lets it start offline, saying the check was not made.
func TestTerminalStartUpCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg, err := configFromEnv(func(string) string { return "" })
	require.NoError(t, err)
	cfg.DataDir, cfg.Listen = dir, freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, cfg, false, &lockedBuffer{}, &lockedBuffer{}) }()
	t.Cleanup(func() { stop(); <-done })
	require.Eventually(t, func() bool {
		res, err := http.Get("http://" + cfg.Listen + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
	admin, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
	require.NoError(t, err)

	opts := func(server, token string) terminalOptions {
		return terminalOptions{server: server, token: token, activity: 12, reader: "sim",
			simImage: filepath.Join("..", "..", "testdata", "cards", "default.json"),
			queue:    filepath.Join(t.TempDir(), "queue.db")}
	}
	for _, tc := range []struct {
		name, token, want string
	}{
		{"unknown token", "vc_" + strings.Repeat("1", 43), "the server refuses this token (unknown or revoked)"},
		{"province admin token", strings.TrimSpace(string(admin)), "this token is not a terminal token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Should the check pass, the terminal would wait for cards:
			// stop it there, and the assertions below fail.
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stdout lockedBuffer
			stderr := &cancelOn{when: "Waiting for cards", cancel: cancel}
			err := runTerminal(ctx, opts("http://"+cfg.Listen, tc.token), &stdout, stderr)
			require.Error(t, err)
			require.Equal(t, exitUsage, exitCode(err))
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), "volcard token create --role terminal --org ORG_ID", "says what to do next")
			require.NotContains(t, stderr.String(), "Waiting for cards", "stopped before the first card")
			require.NotContains(t, err.Error(), tc.token, "the token is never echoed")
		})
	}
	t.Run("server unreachable: starts offline", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stderr := &cancelOn{when: "Waiting for cards", cancel: cancel}
		err := runTerminal(ctx, opts("http://"+freeAddr(t), "vc_"+strings.Repeat("2", 43)), &lockedBuffer{}, stderr)
		require.NoError(t, err)
		require.Contains(t, stderr.String(), "the server cannot be reached")
		require.Contains(t, stderr.String(), "token and activity 12 not checked")
	})
}
