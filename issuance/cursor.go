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

// encodeIDCursor returns the opaque cursor of a newest-first list that
// continues after row id.
func encodeIDCursor(prefix string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(id, 10)))
}

// decodeIDCursor reads a cursor made by encodeIDCursor with the same
// prefix; anything else is invalid ("cursor"), never the first page.
func decodeIDCursor(prefix, c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		return 0, invalid("cursor", "malformed")
	}
	id, err := strconv.ParseInt(string(b[len(prefix):]), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("cursor", "malformed")
	}
	return id, nil
}

func encodeCursor(id int64) string { return encodeIDCursor(applicationCursorPrefix, id) }

func decodeCursor(c string) (int64, error) { return decodeIDCursor(applicationCursorPrefix, c) }

func encodeSessionCursor(id int64) string { return encodeIDCursor(sessionCursorPrefix, id) }

func decodeSessionCursor(c string) (int64, error) { return decodeIDCursor(sessionCursorPrefix, c) }

// EncodeBankRequestCursor returns the opaque cursor of the outbox list that
// continues after row id (newest first).
func EncodeBankRequestCursor(id int64) string { return encodeIDCursor(bankRequestCursorPrefix, id) }

// DecodeBankRequestCursor reads a cursor made by EncodeBankRequestCursor;
// anything else is invalid ("cursor"), never the first page.
func DecodeBankRequestCursor(c string) (int64, error) {
	return decodeIDCursor(bankRequestCursorPrefix, c)
}
