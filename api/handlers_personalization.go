package api

// Personalization routes (issue 5): a bank_staff client opens a session for
// a bank_approved application, relays the APDU batches to a blank card and
// posts the card's responses back. The bodies are package wire's; the
// work is done by personalization. EnablePersonalization adds the
// routes and their OpenAPI entries to a Server. The PIN in the opening body
// is never logged (the access log records no bodies) and never stored.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/personalization"
	"github.com/volcard/volcard/personalization/dataprep"
	"github.com/volcard/volcard/wire"
)

// personalizationError maps the personalization errors; others pass
// through to the central mapping.
func personalizationError(err error) error {
	var ce *personalization.CardError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, personalization.ErrNotBlank):
		return &Error{Kind: KindCardNotBlank, Detail: "the card is already personalized; put a blank card in the reader and open a new session", Internal: err}
	case errors.As(err, &ce):
		return &Error{Kind: KindCardRefused, Detail: fmt.Sprintf("%s (command %d) answered %04X; open a new session to retry", ce.Command, ce.Index, ce.SW), Internal: err}
	case errors.Is(err, personalization.ErrCardRefused):
		return &Error{Kind: KindCardRefused, Detail: "the card refused the secure channel (wrong card keys?); open a new session with a blank card", Internal: err}
	case errors.Is(err, personalization.ErrCardCheck):
		return &Error{Kind: KindCardCheckFailed, Detail: "the card's read-back or offline authentication does not match; the application was not issued", Internal: err}
	case errors.Is(err, personalization.ErrResponses):
		return &Error{Kind: KindResponsesMismatch, Detail: "post the responses of the last batch, in order, up to the first one other than 9000", Internal: err}
	case errors.Is(err, issuance.ErrPersoExpired):
		return &Error{Kind: KindSessionExpired, Detail: "the personalization session expired; open a new one", Internal: err}
	case errors.Is(err, issuance.ErrPersoClosed):
		return &Error{Kind: KindSessionClosed, Detail: "the personalization session is finished, failed or replaced by a newer one; open a new one", Internal: err}
	case errors.Is(err, dataprep.ErrIssuerMismatch), errors.Is(err, dataprep.ErrKeyNotFound):
		return &Error{Kind: KindInternal, Detail: "no issuer key covers this card's BIN; the key store must be configured for the product", Internal: err}
	}
	return err
}

type personalizer struct {
	s *Server
	p *personalization.Service
}

// EnablePersonalization registers the personalization routes, served by p,
// and adds them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnablePersonalization(p *personalization.Service) error {
	if p == nil {
		return errors.New("api: nil personalization service")
	}
	h := &personalizer{s: s, p: p}
	auth := s.authenticate()
	bs := issuance.RoleBankStaff
	s.e.POST("/v1/applications/:id/personalizations", h.open, auth, allow(bs))
	s.e.POST("/v1/personalizations/:sid/responses", h.respond, auth, allow(bs))
	return s.extendOpenAPI(personalizationOpenAPI)
}

func (h *personalizer) open(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req wire.OpenPersonalization
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("reader", req.Reader, 100, true); err != nil {
		return err
	}
	if err := checkText("branch", req.Branch, 100, false); err != nil {
		return err
	}
	var pin dataprep.PIN
	switch {
	case req.PIN != "" && req.PINBlock != "":
		return invalidField("pin", "send either pin or pin_block, not both")
	case req.PIN != "":
		if pin, err = dataprep.NewPIN(req.PIN); err != nil {
			return invalidField("pin", "must be 4 to 12 digits")
		}
	case req.PINBlock != "":
		b, err := hex.DecodeString(req.PINBlock)
		if err != nil {
			return invalidField("pin_block", "must be 16 hex digits (format 2 plaintext block)")
		}
		if pin, err = dataprep.PINFromBlock(b); err != nil {
			return invalidField("pin_block", "must be 16 hex digits (format 2 plaintext block)")
		}
	default:
		return invalidField("pin", "pin or pin_block is required")
	}
	actor, _ := actorFrom(c)
	step, err := h.p.Open(c.Request().Context(), actor, id, personalization.OpenRequest{Reader: req.Reader, Branch: req.Branch, PIN: pin})
	if err != nil {
		return personalizationError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/personalizations/"+step.SessionID)
	return c.JSON(http.StatusCreated, toStep(step))
}

func (h *personalizer) respond(c echo.Context) error {
	sid := c.Param("sid")
	if len(sid) != 32 || strings.Trim(sid, "0123456789abcdef") != "" {
		return &Error{Kind: KindNotFound, Detail: "no such personalization session"}
	}
	var req wire.PersonalizationResponses
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if len(req.Responses) == 0 || len(req.Responses) > 256 {
		return invalidField("responses", "1 to 256 response APDUs")
	}
	rs := make([]cardio.Response, len(req.Responses))
	for i, x := range req.Responses {
		b, err := hex.DecodeString(x)
		if err != nil {
			return invalidField("responses", fmt.Sprintf("response %d is not hex", i))
		}
		if rs[i], err = cardio.ParseResponse(b); err != nil {
			return invalidField("responses", fmt.Sprintf("response %d is not a response APDU", i))
		}
	}
	actor, _ := actorFrom(c)
	step, err := h.p.Respond(c.Request().Context(), actor, sid, rs)
	if err != nil {
		return personalizationError(err)
	}
	return c.JSON(http.StatusOK, toStep(step))
}

func toStep(st personalization.Step) wire.PersonalizationStep {
	out := wire.PersonalizationStep{SessionID: st.SessionID, ApplicationID: st.ApplicationID, Phase: string(st.Phase),
		ExpiresAt: st.ExpiresAt, Commands: make([]string, 0, len(st.Commands))}
	for _, cmd := range st.Commands {
		raw, err := cmd.Encode()
		if err != nil {
			continue // commands are built by the server and always encode
		}
		out.Commands = append(out.Commands, strings.ToUpper(hex.EncodeToString(raw)))
	}
	if r := st.Result; r != nil {
		out.Result = &wire.PersonalizationResult{
			ApplicationID: r.Application.ID, ApplicationNumber: r.Application.Number, Status: string(r.Application.Status),
			MaskedPAN: r.MaskedPAN, Name: r.Name, EmbossName: r.EmbossName, ChipSerial: r.Record.ChipSerial,
			PSN: r.Record.PSN, Expiry: r.Record.Expiry, Reader: r.Record.Reader, Branch: r.Record.Branch,
			Recovered: r.Recovered, PersonalizedAt: r.Record.PersonalizedAt,
		}
	}
	return out
}
