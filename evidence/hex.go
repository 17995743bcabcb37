package evidence

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Hex is a byte string that marshals as upper-case hex text (JSON card
// images, key files). Unmarshalling accepts spaces between digits.
type Hex []byte

// MarshalText encodes h as upper-case hex.
func (h Hex) MarshalText() ([]byte, error) {
	return []byte(strings.ToUpper(hex.EncodeToString(h))), nil
}

// UnmarshalText decodes hex, ignoring spaces.
func (h *Hex) UnmarshalText(text []byte) error {
	b, err := hex.DecodeString(strings.ReplaceAll(string(text), " ", ""))
	if err != nil {
		return fmt.Errorf("evidence: hex: %w", err)
	}
	*h = b
	return nil
}

// String returns h as upper-case hex.
func (h Hex) String() string { return strings.ToUpper(hex.EncodeToString(h)) }
