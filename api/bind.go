package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/wire"
)

// DefaultBodyLimit is the default maximum size of a JSON request body.
const DefaultBodyLimit = 64 << 10

// readBody reads the request body up to limit bytes. It is read once and
// kept in the context so that the idempotency middleware and the handler
// share it.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	if b, ok := c.Get(ctxBody).([]byte); ok {
		return b, nil
	}
	req := c.Request()
	if req.ContentLength > limit {
		return nil, newError(KindPayloadTooLarge, "the request body exceeds %d bytes", limit)
	}
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != echo.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
			return nil, newError(KindUnsupportedMedia, "the request body must be application/json")
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, newError(KindPayloadTooLarge, "the request body exceeds %d bytes", limit)
		}
		return nil, &Error{Kind: KindMalformedJSON, Detail: "the request body could not be read", Internal: err}
	}
	c.Set(ctxBody, b)
	return b, nil
}

// decodeJSON decodes the request body into v (a pointer to a struct) and
// refuses empty bodies, malformed JSON, unknown fields, wrong types, trailing
// data and bodies over the limit, each with a clear problem.
func (s *Server) decodeJSON(c echo.Context, v any) error {
	b, err := readBody(c, s.opts.BodyLimit)
	if err != nil {
		return err
	}
	return decodeStrict(b, v)
}

func decodeStrict(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return newError(KindMalformedJSON, "the request body is empty; send a JSON object")
	}
	if !utf8.Valid(b) {
		return newError(KindMalformedJSON, "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(b, v, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(KindMalformedJSON, "unexpected data after the JSON object")
	}
	return nil
}

func jsonError(b []byte, v any, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return newError(KindMalformedJSON, "invalid JSON at byte offset %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newError(KindMalformedJSON, "the JSON body ends too early")
	case errors.As(err, &te):
		if te.Field == "" {
			return newError(KindValidation, "the request body must be a JSON object")
		}
		return invalidField(te.Field, "must be "+jsonKindName(te.Type))
	}
	// The remaining decoder error is an unknown field; find its name from
	// the raw object (slow path, only on refusal).
	if f := unknownField(b, v); f != "" {
		return invalidField(f, "unknown field")
	}
	return &Error{Kind: KindMalformedJSON, Detail: "the JSON body could not be decoded", Internal: err}
}

func jsonKindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKindName(t.Elem())
	default:
		return "an object"
	}
}

// unknownField returns the first top-level key of the JSON object in b that
// the struct v does not declare.
func unknownField(b []byte, v any) string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return ""
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	var known []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		known = append(known, strings.ToLower(name))
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(known, strings.ToLower(k)) {
			if len(k) > 64 || !utf8.ValidString(k) {
				return "(unnamed)"
			}
			return k
		}
	}
	return ""
}

// checkText validates a free-text field: valid UTF-8 (guaranteed by the
// decoder), no control characters, at most max runes. required refuses "".
func checkText(field, v string, max int, required bool) error {
	if v == "" {
		if required {
			return invalidField(field, "is required")
		}
		return nil
	}
	n := 0
	for _, r := range v {
		n++
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return invalidField(field, "contains control or invalid characters")
		}
	}
	if n > max {
		return invalidField(field, "is too long")
	}
	return nil
}

// decodeReason reads a wire.Decision (card block, unblock and replace;
// outbox retry and cancel), where no body at all means no reason,
// and checks the reason: at most 200 characters, and given when required.
func (s *Server) decodeReason(c echo.Context, required bool) (string, error) {
	b, err := readBody(c, s.opts.BodyLimit)
	if err != nil {
		return "", err
	}
	var req wire.Decision
	if len(b) > 0 {
		if err := decodeStrict(b, &req); err != nil {
			return "", err
		}
	}
	if err := checkText("reason", req.Reason, 200, required); err != nil {
		return "", err
	}
	return req.Reason, nil
}

// pathID parses the :id path parameter.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidField("id", "must be a positive integer")
	}
	return id, nil
}

// queryID parses an optional positive integer query parameter (0 if absent).
func queryID(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalidField(name, "must be a positive integer")
	}
	return id, nil
}
