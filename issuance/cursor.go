package issuance

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Cursor prefixes: each list marks its cursors so that one list's cursor is
// not taken for another's.
const (
	applicationCursorPrefix = "a1:"
	sessionCursorPrefix     = "s1:"
	bankRequestCursorPrefix = "b1:"
)

// EncodeIDCursor returns the opaque cursor of a newest-first list that
// continues after row id.
func EncodeIDCursor(prefix string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(id, 10)))
}

// DecodeIDCursor reads a cursor made by EncodeIDCursor with the same
// prefix; anything else is invalid ("cursor"), never the first page.
func DecodeIDCursor(prefix, c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		return 0, Invalid("cursor", "malformed")
	}
	id, err := strconv.ParseInt(string(b[len(prefix):]), 10, 64)
	if err != nil || id <= 0 {
		return 0, Invalid("cursor", "malformed")
	}
	return id, nil
}

func encodeCursor(id int64) string { return EncodeIDCursor(applicationCursorPrefix, id) }

func decodeCursor(c string) (int64, error) { return DecodeIDCursor(applicationCursorPrefix, c) }

func encodeSessionCursor(id int64) string { return EncodeIDCursor(sessionCursorPrefix, id) }

func decodeSessionCursor(c string) (int64, error) { return DecodeIDCursor(sessionCursorPrefix, c) }

// EncodeBankRequestCursor returns the opaque cursor of the outbox list that
// continues after row id (newest first).
func EncodeBankRequestCursor(id int64) string { return EncodeIDCursor(bankRequestCursorPrefix, id) }

// DecodeBankRequestCursor reads a cursor made by EncodeBankRequestCursor;
// anything else is invalid ("cursor"), never the first page.
func DecodeBankRequestCursor(c string) (int64, error) {
	return DecodeIDCursor(bankRequestCursorPrefix, c)
}
