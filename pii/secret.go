package pii

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Kind says what a Secret holds and so how it is masked.
type Kind uint8

// Kinds of personal data.
const (
	KindOther    Kind = iota // fully masked
	KindIDNumber             // 1101**********002X
	KindPhone                // 138****5678
	KindName                 // 张*三
)

// Secret holds one piece of personal data in plaintext, in memory only. Its
// String, Format, GoString, MarshalJSON, MarshalText and LogValue methods all
// print the masked form, so accidental logging or serialisation cannot leak
// it; Reveal returns the plaintext for the few places that need it. The zero
// value is an empty secret.
type Secret struct {
	kind Kind
	v    string
}

// Compile-time checks that Secret masks itself everywhere it can be printed.
var (
	_ fmt.Stringer   = Secret{}
	_ fmt.Formatter  = Secret{}
	_ fmt.GoStringer = Secret{}
	_ json.Marshaler = Secret{}
	_ slog.LogValuer = Secret{}
)

// NewSecret wraps v as a secret of the given kind.
func NewSecret(kind Kind, v string) Secret { return Secret{kind: kind, v: v} }

// IDNumber wraps an identity document number.
func IDNumber(v string) Secret { return Secret{kind: KindIDNumber, v: v} }

// Phone wraps a phone number.
func Phone(v string) Secret { return Secret{kind: KindPhone, v: v} }

// Name wraps a personal name.
func Name(v string) Secret { return Secret{kind: KindName, v: v} }

// Reveal returns the plaintext. Call it only where the plaintext is needed
// (encryption, validation, a response to a role allowed to see it).
func (s Secret) Reveal() string { return s.v }

// Kind reports what the secret holds.
func (s Secret) Kind() Kind { return s.kind }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// Masked returns the masked form.
func (s Secret) Masked() string {
	switch s.kind {
	case KindIDNumber:
		return MaskIDNumber(s.v)
	case KindPhone:
		return MaskPhone(s.v)
	case KindName:
		return MaskName(s.v)
	default:
		if s.v == "" {
			return ""
		}
		return "****"
	}
}

// String returns the masked form.
func (s Secret) String() string { return s.Masked() }

// GoString returns the masked form, quoted, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("pii.Secret(%q)", s.Masked()) }

// Format prints the masked form for every verb.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.Masked())
	case 'v':
		if f.Flag('#') {
			_, _ = f.Write([]byte(s.GoString()))
			return
		}
		_, _ = f.Write([]byte(s.Masked()))
	default:
		_, _ = f.Write([]byte(s.Masked()))
	}
}

// MarshalJSON encodes the masked form as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.Masked()) }

// MarshalText encodes the masked form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.Masked()), nil }

// LogValue makes slog log the masked form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.Masked()) }
