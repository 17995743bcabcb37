package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	// SignatureHeader carries "t=UNIX,v1=HEX": HEX is the lower-case hex
	// HMAC-SHA256, keyed with the endpoint's secret, of the decimal UNIX
	// time, a dot and the raw body.
	SignatureHeader = "Volcard-Signature"
	// EventIDHeader is the event's id: a receiver drops an id it has
	// already processed (deliveries are at least once).
	EventIDHeader = "Volcard-Event-Id"
	// EventTypeHeader is the event's type.
	EventTypeHeader = "Volcard-Event-Type"
	// DeliveryIDHeader is the delivery's id (differs on a redelivery).
	DeliveryIDHeader = "Volcard-Delivery-Id"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature    = errors.New("webhook: no v1 signature in the header")
	ErrBadSignature   = errors.New("webhook: signature does not match")
	ErrStaleTimestamp = errors.New("webhook: timestamp outside the tolerance")
	ErrBadHeader      = errors.New("webhook: malformed signature header")
)

// Sign returns the signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Header is a parsed signature header: the timestamp and every v1
// signature in it (there may be several while a secret is rolled).
type Header struct {
	Timestamp  int64
	Signatures [][]byte
}

// ParseHeader parses "t=UNIX,v1=HEX[,v1=HEX…]". Unknown keys are skipped,
// as Stripe's scheme asks, so a later scheme can be added beside v1.
func ParseHeader(h string) (Header, error) {
	var out Header
	if len(h) > 4096 {
		return Header{}, ErrBadHeader
	}
	seenT := false
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Header{}, ErrBadHeader
		}
		switch k {
		case "t":
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ts <= 0 || seenT {
				return Header{}, ErrBadHeader
			}
			out.Timestamp, seenT = ts, true
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return Header{}, ErrBadHeader
			}
			out.Signatures = append(out.Signatures, sig)
		}
	}
	if !seenT {
		return Header{}, ErrBadHeader
	}
	if len(out.Signatures) == 0 {
		return Header{}, ErrNoSignature
	}
	return out, nil
}

// Verify checks a delivery as a receiver must: header is the
// Volcard-Signature value, body the raw request body, now the receiver's
// clock, tolerance the largest accepted distance between now and the
// signed timestamp (DefaultTolerance when 0). Compare before parsing the
// body; a nil error means the body is ours and fresh.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	h, err := ParseHeader(header)
	if err != nil {
		return err
	}
	want := mac(secret, strconv.FormatInt(h.Timestamp, 10), body)
	match := false
	for _, sig := range h.Signatures {
		if hmac.Equal(sig, want) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(h.Timestamp, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s off", ErrStaleTimestamp, d.Round(time.Second))
	}
	return nil
}
