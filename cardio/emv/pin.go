package emv

import (
	"context"
	"fmt"

	"github.com/volcard/volcard/cardio"
)

// PINBlock builds the offline plaintext PIN block (EMV Book 3, 6.5.12):
// control nibble 2, PIN length, PIN digits, padded with F to 8 bytes.
func PINBlock(pin string) ([]byte, error) {
	if len(pin) < 4 || len(pin) > 12 {
		return nil, ErrInvalidPIN
	}
	nibbles := make([]byte, 0, 16)
	nibbles = append(nibbles, 2, byte(len(pin)))
	for _, c := range pin {
		if c < '0' || c > '9' {
			return nil, ErrInvalidPIN
		}
		nibbles = append(nibbles, byte(c-'0'))
	}
	for len(nibbles) < 16 {
		nibbles = append(nibbles, 0x0F)
	}
	out := make([]byte, 8)
	for i := range out {
		out[i] = nibbles[2*i]<<4 | nibbles[2*i+1]
	}
	return out, nil
}

// VerifyPIN sends VERIFY (00 20 00 80) with the plaintext PIN block to the
// selected application. It returns nil when the PIN is right; a
// *cardio.PINError (errors.Is(err, cardio.ErrWrongPIN), TriesLeft set) when
// wrong — TriesLeft 0 means this attempt blocked the PIN; cardio.ErrBlocked
// (6983) when the PIN was already blocked; ErrInvalidPIN for a PIN that is
// not 4 to 12 digits. The PIN never appears in errors.
func VerifyPIN(ctx context.Context, card cardio.Card, pin string) error {
	block, err := PINBlock(pin)
	if err != nil {
		return err
	}
	if _, err := cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSVerify, P2: 0x80, Data: block}); err != nil {
		return fmt.Errorf("emv: verify PIN: %w", err)
	}
	return nil
}

// PINTryCounter reads the PIN try counter (GET DATA 9F17) of the selected
// application.
func PINTryCounter(ctx context.Context, card cardio.Card) (int, error) {
	v, err := getData(ctx, card, 0x9F17)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("emv: PIN try counter (9F17): %w", ErrMissingData)
	}
	return int(v[0]), nil
}

// ATC reads the application transaction counter (GET DATA 9F36).
func ATC(ctx context.Context, card cardio.Card) (int, error) {
	v, err := getData(ctx, card, 0x9F36)
	if err != nil {
		return 0, err
	}
	if len(v) != 2 {
		return 0, fmt.Errorf("emv: ATC (9F36): %w", ErrMissingData)
	}
	return int(binaryUint(v)), nil
}
