package pii_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/volcard/volcard/pii"
)

// FuzzParseDataKey: the data-key config value (VOLCARD_DATA_KEY or the key
// file) parses to exactly DataKeySize bytes or fails with ErrKey, and the
// error never repeats what it was given (it is key material).
func FuzzParseDataKey(f *testing.F) {
	k := make([]byte, pii.DataKeySize)
	for i := range k {
		k[i] = byte(i * 7)
	}
	for _, s := range []string{hex.EncodeToString(k), " " + base64.StdEncoding.EncodeToString(k) + "\n",
		base64.RawURLEncoding.EncodeToString(k), hex.EncodeToString(k[:16]), "", "not a key",
		strings.Repeat("g", 2*pii.DataKeySize)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := pii.ParseDataKey(s)
		if err != nil {
			if !errors.Is(err, pii.ErrKey) {
				t.Fatalf("error %v is not ErrKey", err)
			}
			if trimmed := strings.TrimSpace(s); len(trimmed) >= 8 && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("error repeats the key text: %v", err)
			}
			return
		}
		if len(key) != pii.DataKeySize {
			t.Fatalf("key of %d bytes", len(key))
		}
		if _, err := pii.New(key); err != nil {
			t.Fatalf("parsed key refused by NewKeys: %v", err)
		}
	})
}
