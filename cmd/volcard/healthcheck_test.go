package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHealthcheck(t *testing.T) {
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			t.Errorf("path %q", r.URL.Path)
		}
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	run := func(url string) (string, int) {
		cmd := newHealthcheckCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs([]string{"--url", url})
		err := cmd.Execute()
		if err == nil {
			return out.String(), exitOK
		}
		var ee *exitError
		require.True(t, errors.As(err, &ee), "%v", err)
		return err.Error(), ee.code
	}
	out, code := run(srv.URL + "/readyz")
	require.Equal(t, exitOK, code)
	require.Equal(t, "ready\n", out)
	ready.Store(false)
	out, code = run(srv.URL + "/readyz")
	require.Equal(t, exitFailure, code)
	require.Contains(t, out, "503")
	addr := srv.URL
	srv.Close()
	out, code = run(addr + "/readyz")
	require.Equal(t, exitNoDevice, code)
	require.Contains(t, out, "unreachable")
}
