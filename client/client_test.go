package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

func TestErrors(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/v1/terminals/challenge":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"challenge_id":"abc","un":"01020304","expires_at":"2026-11-23T09:00:00Z"}`))
		case "/v1/activities/1/taps":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"type":"https://volcard.example/problems/card-not-genuine","title":"Card is not genuine","status":422}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer ts.Close()
	c, err := client.New(ts.URL, "tok")
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("challenge", func(t *testing.T) {
		ch, err := c.Challenge(ctx)
		require.NoError(t, err)
		require.Equal(t, "abc", ch.ID)
		require.Equal(t, wire.Hex{1, 2, 3, 4}, ch.UN)
	})
	t.Run("problem", func(t *testing.T) {
		_, err := c.Tap(ctx, 1, wire.TapRequest{Seq: 1})
		require.Equal(t, wire.ProblemCardNotGenuine, client.ProblemType(err))
		require.False(t, client.Retryable(err))
	})
	t.Run("5xx is retryable", func(t *testing.T) {
		_, err := c.Activity(ctx, 9)
		require.ErrorIs(t, err, client.ErrServer)
		require.True(t, client.Retryable(err))
	})
	t.Run("unreachable", func(t *testing.T) {
		dead, err := client.New("http://127.0.0.1:1", "tok")
		require.NoError(t, err)
		_, err = dead.Challenge(ctx)
		require.ErrorIs(t, err, client.ErrUnreachable)
		require.True(t, client.Retryable(err))
	})
	t.Run("bad URL", func(t *testing.T) {
		_, err := client.New("ftp://x", "tok")
		require.Error(t, err)
		_, err = client.New("http://x", " ")
		require.True(t, err != nil && !errors.Is(err, client.ErrUnreachable))
	})
}
