package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

// Kind is a stable class of API error. Each kind has one problem type URI
// (wire.ProblemBase + the kind), one title and one HTTP status.
type Kind string

// Problem kinds of every route.
const (
	KindValidation          Kind = wire.ProblemValidation
	KindMalformedJSON       Kind = wire.ProblemMalformedJSON
	KindPayloadTooLarge     Kind = wire.ProblemPayloadTooLarge
	KindUnsupportedMedia    Kind = wire.ProblemUnsupportedMedia
	KindUnauthorized        Kind = wire.ProblemUnauthorized
	KindForbidden           Kind = wire.ProblemForbidden
	KindNotFound            Kind = wire.ProblemNotFound
	KindMethodNotAllowed    Kind = wire.ProblemMethodNotAllowed
	KindConflict            Kind = wire.ProblemConflict
	KindIllegalTransition   Kind = wire.ProblemIllegalTransition
	KindIdempotencyMismatch Kind = wire.ProblemIdempotencyMismatch
	KindIdempotencyInFlight Kind = wire.ProblemIdempotencyInFlight
	KindRateLimited         Kind = wire.ProblemRateLimited
	KindUnavailable         Kind = wire.ProblemUnavailable
	KindInternal            Kind = wire.ProblemInternal
)

// Problem kinds of the check-in routes.
const (
	KindChallengeReplayed Kind = wire.ProblemChallengeReplayed
	KindChallengeInvalid  Kind = wire.ProblemChallengeInvalid
	KindCardNotGenuine    Kind = wire.ProblemCardNotGenuine
	KindCardUnknown       Kind = wire.ProblemCardUnknown
	KindCardBlocked       Kind = wire.ProblemCardBlocked
	KindCardExpired       Kind = wire.ProblemCardExpired
	KindCardClosed        Kind = wire.ProblemCardClosed
	// KindTestBankUnavailable: a test helper for a card of a real bank.
	KindTestBankUnavailable Kind = wire.ProblemTestBankUnavailable
	KindEvidenceReplayed    Kind = wire.ProblemEvidenceReplayed
	KindSequenceReused      Kind = wire.ProblemSequenceReused
	// Redemptions after a benefit check.
	KindBenefitCheckExpired Kind = wire.ProblemBenefitCheckExpired
	KindOfferNotOffered     Kind = wire.ProblemOfferNotOffered
	KindPINRequired         Kind = wire.ProblemPINRequired
)

// Problem kinds of the personalization routes.
const (
	KindCardRefused       Kind = wire.ProblemCardRefused
	KindCardCheckFailed   Kind = wire.ProblemCardCheckFailed
	KindCardNotBlank      Kind = wire.ProblemCardNotBlank
	KindSessionExpired    Kind = wire.ProblemSessionExpired
	KindSessionClosed     Kind = wire.ProblemSessionClosed
	KindResponsesMismatch Kind = wire.ProblemResponsesMismatch
)

type kindInfo struct {
	status int
	title  string
}

var kinds = map[Kind]kindInfo{
	KindValidation:          {http.StatusBadRequest, "Invalid request"},
	KindMalformedJSON:       {http.StatusBadRequest, "Malformed JSON body"},
	KindPayloadTooLarge:     {http.StatusRequestEntityTooLarge, "Request body too large"},
	KindUnsupportedMedia:    {http.StatusUnsupportedMediaType, "Unsupported media type"},
	KindUnauthorized:        {http.StatusUnauthorized, "Authentication required"},
	KindForbidden:           {http.StatusForbidden, "Forbidden"},
	KindNotFound:            {http.StatusNotFound, "Not found"},
	KindMethodNotAllowed:    {http.StatusMethodNotAllowed, "Method not allowed"},
	KindConflict:            {http.StatusConflict, "Conflict"},
	KindIllegalTransition:   {http.StatusConflict, "Illegal status transition"},
	KindIdempotencyMismatch: {http.StatusUnprocessableEntity, "Idempotency-Key reused with a different request"},
	KindIdempotencyInFlight: {http.StatusConflict, "A request with this Idempotency-Key is in progress"},
	KindRateLimited:         {http.StatusTooManyRequests, "Too many requests"},
	KindUnavailable:         {http.StatusServiceUnavailable, "Service unavailable"},
	KindInternal:            {http.StatusInternalServerError, "Internal server error"},

	// Check-in.
	KindChallengeReplayed:   {http.StatusConflict, "Challenge already used"},
	KindChallengeInvalid:    {http.StatusUnprocessableEntity, "Challenge unknown or expired"},
	KindCardNotGenuine:      {http.StatusUnprocessableEntity, "Card is not genuine"},
	KindCardUnknown:         {http.StatusNotFound, "Card unknown"},
	KindCardBlocked:         {http.StatusForbidden, "Card blocked"},
	KindCardExpired:         {http.StatusForbidden, "Card expired"},
	KindCardClosed:          {http.StatusForbidden, "Card closed"},
	KindTestBankUnavailable: {http.StatusConflict, "Test helpers work only on the embedded bank simulator"},
	KindEvidenceReplayed:    {http.StatusConflict, "Card evidence already presented"},
	KindSequenceReused:      {http.StatusConflict, "Sequence number reused"},
	KindBenefitCheckExpired: {http.StatusConflict, "Benefit check expired"},
	KindOfferNotOffered:     {http.StatusConflict, "Offer not offered here"},
	KindPINRequired:         {http.StatusConflict, "Offline PIN required"},

	// Personalization.
	KindCardRefused:       {http.StatusUnprocessableEntity, "The card refused a personalization command"},
	KindCardCheckFailed:   {http.StatusUnprocessableEntity, "The personalized card failed its check"},
	KindCardNotBlank:      {http.StatusConflict, "The card is not blank"},
	KindSessionExpired:    {http.StatusGone, "Personalization session expired"},
	KindSessionClosed:     {http.StatusConflict, "Personalization session closed"},
	KindResponsesMismatch: {http.StatusBadRequest, "Responses do not fit the batch"},
}

// TypeURI returns the problem type URI of k.
func (k Kind) TypeURI() string { return wire.ProblemBase + string(k) }

// Status returns the HTTP status of k.
func (k Kind) Status() int {
	if i, ok := kinds[k]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// Title returns the short human-readable summary of k.
func (k Kind) Title() string {
	if i, ok := kinds[k]; ok {
		return i.title
	}
	return kinds[KindInternal].title
}

// toAPIError maps any error to an *Error. Typed domain errors are matched
// with errors.Is/As; anything unknown is internal.
func toAPIError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fromHTTPError(he)
	}
	var ve *issuance.ValidationError
	var te *issuance.TransitionError
	var ce *issuance.ConflictError
	var pe *issuance.PolicyError
	switch {
	case errors.As(err, &pe):
		return &Error{Kind: KindForbidden, Detail: pe.Rule}
	case errors.As(err, &ve):
		return &Error{Kind: KindValidation, Detail: ve.Field + ": " + ve.Reason,
			Fields: []wire.FieldError{{Field: ve.Field, Message: ve.Reason}}}
	case errors.As(err, &te):
		return &Error{Kind: KindIllegalTransition,
			Detail: "an application in status " + string(te.From) + " cannot become " + string(te.To)}
	case errors.As(err, &ce):
		return &Error{Kind: KindConflict, Detail: conflictDetail(ce.What)}
	case errors.Is(err, issuance.ErrInvalid):
		return &Error{Kind: KindValidation, Detail: "the request is invalid"}
	case errors.Is(err, issuance.ErrIllegalTransition):
		return &Error{Kind: KindIllegalTransition, Detail: "the application cannot take this step in its current status"}
	case errors.Is(err, issuance.ErrNotFound):
		return &Error{Kind: KindNotFound, Detail: "no such resource, or it lies outside your scope"}
	case errors.Is(err, issuance.ErrConflict):
		return &Error{Kind: KindConflict, Detail: "the request conflicts with existing data (a duplicate, or a live application for the same volunteer and product)"}
	case errors.Is(err, issuance.ErrForbidden):
		return &Error{Kind: KindForbidden, Detail: "your role may not do this"}
	case errors.Is(err, issuance.ErrUnauthenticated):
		return &Error{Kind: KindUnauthorized, Detail: "the bearer token is missing, unknown or revoked"}
	case errors.Is(err, issuance.ErrIdempotencyKeyMismatch):
		return &Error{Kind: KindIdempotencyMismatch, Detail: "this Idempotency-Key was first used with a different request body; use a new key"}
	case errors.Is(err, issuance.ErrIdempotencyKeyInFlight):
		return &Error{Kind: KindIdempotencyInFlight, Detail: "the first request with this Idempotency-Key has not finished; retry later"}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindUnavailable, Detail: "the request was cancelled", Internal: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindUnavailable, Detail: "the request timed out", Internal: err}
	}
	return &Error{Kind: KindInternal, Detail: "an internal error occurred; quote the request_id when reporting it", Internal: err}
}

func fromHTTPError(he *echo.HTTPError) *Error {
	e := &Error{Internal: he.Internal}
	switch he.Code {
	case http.StatusNotFound:
		e.Kind, e.Detail = KindNotFound, "no such route"
	case http.StatusMethodNotAllowed:
		e.Kind, e.Detail = KindMethodNotAllowed, "this route does not accept this method"
	case http.StatusRequestEntityTooLarge:
		e.Kind, e.Detail = KindPayloadTooLarge, "the request body exceeds the size limit"
	case http.StatusUnsupportedMediaType:
		e.Kind, e.Detail = KindUnsupportedMedia, "send application/json"
	case http.StatusUnauthorized:
		e.Kind, e.Detail = KindUnauthorized, "the bearer token is missing, unknown or revoked"
	case http.StatusForbidden:
		e.Kind, e.Detail = KindForbidden, "your role may not do this"
	case http.StatusTooManyRequests:
		e.Kind, e.Detail = KindRateLimited, "slow down"
	case http.StatusServiceUnavailable:
		e.Kind, e.Detail = KindUnavailable, "the service is unavailable"
	default:
		if he.Code >= 400 && he.Code < 500 {
			e.Kind, e.Detail = KindValidation, http.StatusText(he.Code)
		} else {
			e.Kind, e.Detail = KindInternal, "an internal error occurred; quote the request_id when reporting it"
			if e.Internal == nil {
				e.Internal = he
			}
		}
	}
	return e
}

// errorHandler is the Echo HTTPErrorHandler: it renders every error as a
// problem document and logs internal causes (scrubbed of personal data).
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := toAPIError(err)
	status := ae.Kind.Status()
	p := wire.Problem{
		Type:      ae.Kind.TypeURI(),
		Title:     ae.Kind.Title(),
		Status:    status,
		Detail:    ae.Detail,
		Instance:  c.Request().URL.Path,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Errors:    ae.Fields,
	}
	if status >= 500 {
		cause := err
		if ae.Internal != nil {
			cause = ae.Internal
		}
		s.log.LogAttrs(c.Request().Context(), slog.LevelError, "request failed",
			slog.String("request_id", p.RequestID),
			slog.String("route", c.Path()),
			slog.String("kind", string(ae.Kind)),
			slog.String("cause", pii.Scrub(cause.Error())))
	} else if ae.Internal != nil {
		s.log.LogAttrs(c.Request().Context(), slog.LevelDebug, "request refused",
			slog.String("request_id", p.RequestID),
			slog.String("kind", string(ae.Kind)),
			slog.String("cause", pii.Scrub(ae.Internal.Error())))
	}
	if ae.RetryAfter > 0 {
		secs := int((ae.RetryAfter + 999_999_999) / 1_000_000_000)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if ae.Kind == KindUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="volcard"`)
	}
	writeProblem(c, p)
}

func writeProblem(c echo.Context, p wire.Problem) {
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: Problem holds only strings and ints
		b = []byte(`{"type":"` + KindInternal.TypeURI() + `","title":"Internal server error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.Blob(p.Status, wire.ProblemContentType, b)
}

func conflictDetail(what string) string {
	switch what {
	case "id_number":
		return "a volunteer with this ID number is already registered"
	case "live_application":
		return "the volunteer already has a live application for this product"
	case "platform_number":
		return "another volunteer holds this platform number"
	case "":
		return "the request conflicts with existing data"
	default:
		return "duplicate " + what
	}
}
