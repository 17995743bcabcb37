package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// FuzzTapPayload posts arbitrary bytes as the body of POST
// /v1/activities/{id}/taps as a terminal, on a SQLite-backed server with
// check-in enabled: every answer must be a 2xx or 4xx problem, never a 5xx
// or a panic. Seeds: testdata/bodies/tap_*.json, plus a fresh online and a
// fresh offline tap of the default card.
func FuzzTapPayload(f *testing.F) {
	h := newCheckinHarness(f, storetest.SQLite(f))
	seeds, err := filepath.Glob(filepath.Join("testdata", "bodies", "tap_*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds testdata/bodies/tap_*.json: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ch := h.challenge(f, "terminal")
	online, _ := json.Marshal(wire.TapRequest{Seq: 1, ChallengeID: ch.ID, Card: cardEvidence(f, "default.json", ch.UN)})
	at := time.Now().UTC()
	offline, _ := json.Marshal(wire.TapRequest{Seq: 2, Offline: true, At: &at,
		Card: cardEvidence(f, "forged.json", []byte{1, 2, 3, 4})})
	for _, s := range [][]byte{online, offline, []byte(``), []byte(`{}`), []byte(`null`), []byte(`{"seq":-1}`),
		[]byte(`{"seq":1,"offline":true,"at":"9999-12-31T23:59:59Z","card":{}}`), []byte(strings.Repeat("[", 5000))} {
		f.Add(s)
	}
	token := "Bearer " + h.tokens["terminal"]
	path := h.tapPath()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", token)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != wire.ProblemContentType {
			t.Fatalf("status %d without a problem document", rec.Code)
		}
	})
}
