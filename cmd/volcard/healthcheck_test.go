package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHealthcheck(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/readyz", r.URL.Path)
		if !ready {
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
	ready = false
	out, code = run(srv.URL + "/readyz")
	require.Equal(t, exitFailure, code)
	require.Contains(t, out, "503")
	addr := srv.URL
	srv.Close()
	out, code = run(addr + "/readyz")
	require.Equal(t, exitNoDevice, code)
	require.Contains(t, out, "unreachable")
}
