package api

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/pii"
)

// stubStore satisfies issuance.Store for tests that never reach storage;
// any storage call panics (and the server's recovery turns it into 500).
type stubStore struct{ issuance.Store }

// stubOnsiteStore is the on-site storage of the stub server: any call panics.
type stubOnsiteStore struct{ onsite.Store }

// newStubServer returns a Server whose Service has no working storage: for
// tests of routing, middleware, decoding and the document.
func newStubServer(t *testing.T, opts ...func(*Options)) *Server {
	t.Helper()
	keys, err := pii.New(make([]byte, pii.DataKeySize))
	require.NoError(t, err)
	svc, err := issuance.NewService(stubStore{}, keys)
	require.NoError(t, err)
	o := Options{Service: svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range opts {
		f(&o)
	}
	s, err := New(o)
	require.NoError(t, err)
	return s
}
