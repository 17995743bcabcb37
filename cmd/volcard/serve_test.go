package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestServeFirstStart starts serve on an empty SQLite data directory: it
// creates the data key and the first admin token (0600), answers with that
// token, never logs it, and stops on cancellation.
func TestServeFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg, err := configFromEnv(func(string) string { return "" })
	require.NoError(t, err)
	cfg.DataDir, cfg.Listen = dir, freeAddr(t)

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, cfg, false, &stdout, &stderr) }()

	base := "http://" + cfg.Listen
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 20e9, 50e6)

	tokFile := filepath.Join(dir, adminTokenFile)
	fi, err := os.Stat(tokFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(tokFile)
	require.NoError(t, err)
	token := strings.TrimSpace(string(b))
	require.Contains(t, stdout.String(), token, "printed once on stdout")

	req, _ := http.NewRequest(http.MethodGet, base+"/v1/products", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The embedded database is owner-only, as docs/operations.md says: the
	// data directory 0700, the database and its -wal and -shm 0600.
	fi, err = os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	for _, f := range []string{"volcard.db", "volcard.db-wal", "volcard.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}

	cancel()
	require.NoError(t, <-done)
	require.NotContains(t, stderr.String(), token, "the token is never logged")
	require.Contains(t, stderr.String(), `"msg":"stopped"`)

	// A second start finds the token and creates none.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out2 lockedBuffer
	cfg.Listen = freeAddr(t)
	go func() { done <- runServe(ctx2, cfg, false, &out2, io.Discard) }()
	require.Eventually(t, func() bool {
		res, err := http.Get("http://" + cfg.Listen + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return true
	}, 20e9, 50e6)
	cancel2()
	require.NoError(t, <-done)
	require.Empty(t, out2.String())
}
