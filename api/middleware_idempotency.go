package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// Idempotency-Key header names.
const (
	headerIdempotencyKey = "Idempotency-Key"
	// headerReplayed marks a response replayed from a stored first response.
	headerReplayed = "Idempotent-Replayed"
)

// maxIdempotencyKeyLen bounds the Idempotency-Key header (Stripe: 255).
const maxIdempotencyKeyLen = 255

// idempotency implements Stripe-style Idempotency-Keys on a POST route: the
// first request with a key runs and, when the command ran (2xx, or a 409
// refusal decided on the data: a duplicate or an illegal transition), its
// response is stored; retries from the same token with the same body get
// that response again with Idempotent-Replayed: true; the same key with a
// different body is refused (422, idempotency-mismatch); a retry while the
// first is still running is refused (409, idempotency-in-flight). Requests
// refused before the command ran (400, 401, 403, 404, 413, 415) and server
// errors release the key, as Stripe does, so the client may correct the
// request and retry with the same key. Keys live for Options.IdempotencyTTL
// (24 h). It must run after authentication.
func (s *Server) idempotency() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get(headerIdempotencyKey)
			if key == "" || s.opts.Idempotency == nil {
				return next(c)
			}
			if err := checkIdempotencyKey(key); err != nil {
				return err
			}
			actor, ok := actorFrom(c)
			if !ok {
				return newError(KindUnauthorized, "authentication required")
			}
			body, err := readBody(c, s.opts.BodyLimit)
			if err != nil {
				return err
			}
			claim := issuance.IdempotencyClaim{
				Scope:       tokenScope(actor),
				Key:         key,
				RequestHash: requestHash(c.Request().Method, c.Request().URL.Path, body),
				TTL:         s.opts.IdempotencyTTL,
				LockTTL:     s.opts.IdempotencyLockTTL,
			}
			ctx := c.Request().Context()
			stored, err := s.opts.Idempotency.Claim(ctx, claim)
			if err != nil {
				return err
			}
			if stored != nil {
				h := c.Response().Header()
				h.Set(headerReplayed, "true")
				if stored.ContentType != "" {
					h.Set(echo.HeaderContentType, stored.ContentType)
				}
				if stored.Location != "" {
					h.Set(echo.HeaderLocation, stored.Location)
				}
				c.Response().WriteHeader(stored.Status)
				_, err := c.Response().Write(stored.Body)
				return err
			}

			return s.runIdempotent(c, next, claim)
		}
	}
}

// errRollback makes InTx roll back without being an error of its own.
var errRollback = errors.New("roll back")

// runIdempotent runs the handler of a claimed key inside one database
// transaction together with storing its response, so that the effect (an
// application) and the stored response commit or vanish together: a retry
// can never run the command twice. The response is buffered and sent only
// after the commit. Refusals roll back the handler's transaction and
// are stored on their own (409) or release the key (other 4xx, 5xx).
func (s *Server) runIdempotent(c echo.Context, next echo.HandlerFunc, claim issuance.IdempotencyClaim) error {
	req := c.Request()
	ctx := req.Context()
	res := c.Response()
	real := res.Writer
	buf := &bufferedWriter{ResponseWriter: real}
	res.Writer = buf
	// The result must be stored or released even if the client went away.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	finished := false
	defer func() {
		c.SetRequest(req)
		res.Writer = real
		if !finished { // the handler panicked: free the key, let recovery answer
			resetResponse(res)
			_ = s.opts.Idempotency.Release(bg, claim.Scope, claim.Key)
		}
	}()

	txErr := s.svc.InTx(ctx, func(txCtx context.Context) error {
		c.SetRequest(req.WithContext(txCtx))
		if err := next(c); err != nil {
			c.Error(err) // render into the buffer
		}
		if !res.Committed || res.Status >= 400 {
			return errRollback
		}
		return s.opts.Idempotency.Complete(txCtx, claim.Scope, claim.Key, buf.stored(res))
	})
	finished = true
	c.SetRequest(req)
	res.Writer = real

	switch {
	case txErr == nil:
		// Committed together with the stored response.
	case errors.Is(txErr, errRollback) && res.Committed && res.Status == http.StatusConflict:
		// The command ran and was refused on the data: keep the answer.
		if err := s.opts.Idempotency.Complete(bg, claim.Scope, claim.Key, buf.stored(res)); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "store idempotent response", slog.String("cause", pii.Scrub(err.Error())))
		}
	default:
		if err := s.opts.Idempotency.Release(bg, claim.Scope, claim.Key); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "release idempotency key", slog.String("cause", pii.Scrub(err.Error())))
		}
		if !errors.Is(txErr, errRollback) {
			// The commit failed after the handler answered: replace the
			// buffered answer by an error.
			resetResponse(res)
			return txErr
		}
	}
	return buf.flush(res)
}

// resetResponse forgets a buffered, unsent response so that another can be
// written.
func resetResponse(res *echo.Response) {
	h := res.Header()
	for _, k := range []string{echo.HeaderContentType, echo.HeaderLocation, headerReplayed} {
		h.Del(k)
	}
	res.Committed, res.Status, res.Size = false, 0, 0
}

func checkIdempotencyKey(key string) error {
	if len(key) > maxIdempotencyKeyLen {
		return invalidField(headerIdempotencyKey, "must be at most 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return invalidField(headerIdempotencyKey, "must be visible ASCII characters")
		}
	}
	return nil
}

// requestHash fingerprints a request: method, path and the body with
// insignificant JSON whitespace removed.
func requestHash(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	var compact bytes.Buffer
	if json.Compact(&compact, body) == nil {
		h.Write(compact.Bytes())
	} else {
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// bufferedWriter holds a response until the transaction that produced it
// has committed. Headers go straight to the underlying writer's header map
// (they are not sent before WriteHeader).
type bufferedWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) WriteHeader(code int) { w.status = code }

func (w *bufferedWriter) Write(b []byte) (int, error) { return w.body.Write(b) }

// Flush is a no-op: nothing leaves before the commit.
func (w *bufferedWriter) Flush() {}

func (w *bufferedWriter) stored(res *echo.Response) issuance.StoredResponse {
	return issuance.StoredResponse{Status: res.Status, ContentType: res.Header().Get(echo.HeaderContentType),
		Location: res.Header().Get(echo.HeaderLocation), Body: bytes.Clone(w.body.Bytes())}
}

// flush sends the buffered response on the underlying writer.
func (w *bufferedWriter) flush(res *echo.Response) error {
	if w.status == 0 {
		return nil
	}
	w.ResponseWriter.WriteHeader(w.status)
	_, err := w.ResponseWriter.Write(w.body.Bytes())
	return err
}
