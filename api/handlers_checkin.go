package api

// Check-in routes (issue 6): terminal challenges, activities, taps, service
// records, benefit checks, and the admin routes around them (corrections,
// added hours, offers, blocked cards, the member-hours report). The bodies
// the terminal shares are package wire's. EnableCheckin adds the routes and
// their OpenAPI entries to a Server.

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/wire"
)

// checkinError turns the check-in domain errors into API errors; others
// pass through to the central mapping.
func checkinError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, checkin.ErrChallengeReplayed):
		return &Error{Kind: KindChallengeReplayed, Detail: "this challenge was already used; ask for a new one for every tap", Internal: err}
	case errors.Is(err, checkin.ErrChallengeUnknown):
		return &Error{Kind: KindChallengeInvalid, Detail: "no such challenge was issued to this terminal", Internal: err}
	case errors.Is(err, checkin.ErrChallengeExpired):
		return &Error{Kind: KindChallengeInvalid, Detail: "the challenge expired; ask for a new one", Internal: err}
	case errors.Is(err, checkin.ErrCardNotGenuine):
		return &Error{Kind: KindCardNotGenuine, Detail: "the card failed authentication (certificate chain or signature over the challenge)", Internal: err}
	case errors.Is(err, checkin.ErrCardUnknown):
		return &Error{Kind: KindCardUnknown, Detail: "the card is genuine but not linked to any registered volunteer", Internal: err}
	case errors.Is(err, checkin.ErrCardBlocked):
		return &Error{Kind: KindCardBlocked, Detail: "the card is blocked", Internal: err}
	case errors.Is(err, checkin.ErrCardClosed):
		return &Error{Kind: KindCardClosed, Detail: "the card was closed at the bank (the holder left the programme, or the card was given up); it can no longer be used", Internal: err}
	case errors.Is(err, checkin.ErrCardExpired):
		return &Error{Kind: KindCardExpired, Detail: "the card has expired (past the last day of its expiry month); the holder needs a renewed card", Internal: err}
	case errors.Is(err, checkin.ErrEvidenceReplayed):
		return &Error{Kind: KindEvidenceReplayed, Detail: "this card signature was presented before", Internal: err}
	case errors.Is(err, checkin.ErrCheckExpired):
		return &Error{Kind: KindBenefitCheckExpired, Detail: "the benefit check is older than 10 minutes; tap the card again", Internal: err}
	case errors.Is(err, checkin.ErrOfferNotOffered):
		return &Error{Kind: KindOfferNotOffered, Detail: "the offer is not offered to this card's holder at this terminal now", Internal: err}
	case errors.Is(err, checkin.ErrPINRequired):
		return &Error{Kind: KindPINRequired, Detail: "the offer requires the holder's offline PIN verified on the card (cvm offline_pin)", Internal: err}
	case errors.Is(err, checkin.ErrOfferWithdrawn):
		return &Error{Kind: KindConflict, Detail: "the offer was withdrawn; a withdrawn offer is kept as it was", Internal: err}
	case errors.Is(err, checkin.ErrTapSequenceReused):
		return &Error{Kind: KindSequenceReused, Detail: "this terminal already sent another tap with this sequence number", Internal: err}
	}
	return err
}

// checkin holds the handlers of the check-in routes.
type checkinHandlers struct {
	s  *Server
	ck *checkin.Service
}

// EnableCheckin registers the check-in routes, served by ck, and adds them
// to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableCheckin(ck *checkin.Service) error {
	if ck == nil {
		return errors.New("api: nil check-in service")
	}
	h := &checkinHandlers{s: s, ck: ck}
	const (
		pa = issuance.RoleProvinceAdmin
		oa = issuance.RoleOrgAdmin
		bs = issuance.RoleBankStaff
		tm = issuance.RoleTerminal
		pf = issuance.RolePlatform
	)
	auth, idem := s.authenticate(), s.idempotency()
	e := s.e
	e.POST("/v1/terminals/challenge", h.challenge, auth, allow(tm))
	e.GET("/v1/terminals/self", h.terminalState, auth, allow(tm))
	e.POST("/v1/activities", h.createActivity, auth, allow(pa, oa), idem)
	e.GET("/v1/activities", h.listActivities, auth, allow(pa, oa, bs, tm, pf))
	e.GET("/v1/activities/:id", h.getActivity, auth, allow(pa, oa, bs, tm, pf))
	e.POST("/v1/activities/:id/taps", h.tap, auth, allow(tm))
	e.GET("/v1/volunteers/:id/service-record", h.serviceRecord, auth, allow(pa, oa, bs, tm, pf))
	e.POST("/v1/volunteers/:id/service-hours", h.addHours, auth, allow(pa, oa), idem)
	e.POST("/v1/attendances/:id/correction", h.correct, auth, allow(pa, oa), idem)
	e.GET("/v1/orgs/:id/member-hours", h.memberHours, auth, allow(pa, oa))
	e.POST("/v1/offers", h.createOffer, auth, allow(pa, oa), idem)
	e.GET("/v1/offers", h.listOffers, auth, allow(pa, oa))
	e.GET("/v1/offers/:id", h.getOffer, auth, allow(pa, oa))
	e.PATCH("/v1/offers/:id", h.changeOffer, auth, allow(pa, oa), idem)
	e.POST("/v1/offers/:id/withdraw", h.withdrawOffer, auth, allow(pa, oa), idem)
	e.GET("/v1/offers/:id/redemptions", h.listRedemptions, auth, allow(pa, oa))
	e.POST("/v1/benefits/redemptions", h.redeem, auth, allow(tm))
	e.POST("/v1/cards/block", h.cardByPAN(issuance.CardChangeBlock), auth, allow(pa, oa, bs), idem)
	e.POST("/v1/cards/unblock", h.cardByPAN(issuance.CardChangeUnblock), auth, allow(pa, oa, bs), idem)
	e.POST("/v1/benefits/check", h.benefits, auth, allow(tm, pf, pa, oa))

	return s.extendOpenAPI(checkinOpenAPI)
}

func hours(minutes int64) float64 { return math.Round(float64(minutes)/60*100) / 100 }

// terminalID is the terminal identity used for tap idempotency: the token,
// so that one terminal cannot use another's sequence numbers.
func terminalID(a issuance.Actor) string { return "token:" + strconv.FormatInt(a.TokenID, 10) }

func (h *checkinHandlers) challenge(c echo.Context) error {
	actor, _ := actorFrom(c)
	ch, err := h.ck.IssueChallenge(c.Request().Context(), actor)
	if err != nil {
		return checkinError(err)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusCreated, wire.Challenge{ID: ch.ID, UN: ch.UN, ExpiresAt: ch.ExpiresAt})
}

// terminalState answers GET /v1/terminals/self[?activity=ID]: the highest
// sequence number of the caller's taps and, when asked, the activity (404
// when it does not exist or lies outside the token's scope). A terminal
// calls it at start: a 401 or 403 says its token is wrong, a 404 its
// activity.
func (h *checkinHandlers) terminalState(c echo.Context) error {
	actID, err := queryID(c, "activity")
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	ctx := c.Request().Context()
	var out wire.TerminalState
	if actID != 0 {
		a, err := h.ck.GetActivity(ctx, actor, actID)
		if err != nil {
			return checkinError(err)
		}
		act := toActivity(a)
		out.Activity = &act
	}
	if out.LastSeq, err = h.ck.LastTapSeq(ctx, actor, terminalID(actor)); err != nil {
		return checkinError(err)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, out)
}

func toActivity(a checkin.Activity) wire.Activity {
	return wire.Activity{ID: a.ID, OrgID: a.OrgID, Title: a.Title, Site: a.Site, StartsAt: a.StartsAt,
		EndsAt: a.EndsAt, CreatedAt: a.CreatedAt}
}

func (h *checkinHandlers) createActivity(c echo.Context) error {
	var req wire.NewActivity
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("title", req.Title, 100, true); err != nil {
		return err
	}
	if err := checkText("site", req.Site, 200, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	a, err := h.ck.CreateActivity(c.Request().Context(), actor, checkin.NewActivity{OrgID: req.OrgID,
		Title: req.Title, Site: req.Site, StartsAt: req.StartsAt, EndsAt: req.EndsAt})
	if err != nil {
		return checkinError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/activities/"+strconv.FormatInt(a.ID, 10))
	return c.JSON(http.StatusCreated, toActivity(a))
}

func (h *checkinHandlers) getActivity(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	a, err := h.ck.GetActivity(c.Request().Context(), actor, id)
	if err != nil {
		return checkinError(err)
	}
	return c.JSON(http.StatusOK, toActivity(a))
}

// queryTime parses an optional RFC 3339 query parameter.
func queryTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || len(v) > 40 {
		return time.Time{}, invalidField(name, "must be an RFC 3339 date-time, e.g. 2026-11-23T00:00:00+08:00")
	}
	return t, nil
}

// listActivities lists the activities in the caller's scope, newest start
// first, with cursor pagination like GET /v1/applications.
func (h *checkinHandlers) listActivities(c echo.Context) error {
	f := checkin.ActivityFilter{Cursor: c.QueryParam("cursor")}
	var err error
	if f.OrgID, err = queryID(c, "org"); err != nil {
		return err
	}
	if f.From, err = queryTime(c, "from"); err != nil {
		return err
	}
	if f.To, err = queryTime(c, "to"); err != nil {
		return err
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > issuance.MaxPageSize {
			return invalidField("limit", "must be an integer from 1 to "+strconv.Itoa(issuance.MaxPageSize))
		}
		f.Limit = n
	}
	if err := checkText("cursor", f.Cursor, 128, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	page, err := h.ck.ListActivities(c.Request().Context(), actor, f)
	if err != nil {
		return checkinError(err)
	}
	out := wire.ActivityPage{Items: make([]wire.ActivityItem, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, it := range page.Items {
		out.Items = append(out.Items, wire.ActivityItem{Activity: toActivity(it.Activity), OrgName: it.OrgName,
			CheckIns: it.CheckIns, OnSite: it.OnSite})
	}
	return c.JSON(http.StatusOK, out)
}

// tap handles POST /v1/activities/{id}/taps. It does not use the
// Idempotency-Key middleware: taps are idempotent by (terminal, seq).
func (h *checkinHandlers) tap(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req wire.TapRequest
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if n := len(req.Card.PAN); n > 19 || (n > 0 && n < 12) { // empty: an offline tap, the PAN is in the records
		return invalidField("card.pan", "must be 12 to 19 digits")
	}
	if err := checkText("challenge_id", req.ChallengeID, 64, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	in := checkin.TapInput{ActivityID: id, TerminalID: terminalID(actor), Seq: req.Seq,
		ChallengeID: req.ChallengeID, Offline: req.Offline, Evidence: req.Card}
	if req.At != nil {
		in.At = *req.At
	}
	r, err := h.ck.Tap(c.Request().Context(), actor, in)
	if err != nil {
		return checkinError(err)
	}
	status := http.StatusCreated
	if r.Replayed {
		status = http.StatusOK
	}
	return c.JSON(status, wire.TapResult{TapID: r.TapID, Kind: string(r.Kind), ActivityID: r.ActivityID,
		ActivityTitle: r.ActivityTitle, VolunteerID: r.VolunteerID, VolunteerName: r.VolunteerName, At: r.At,
		CheckedInAt: r.CheckedInAt, SessionMinutes: r.SessionMinutes, SessionHours: hours(r.SessionMinutes),
		YearHours: hours(r.YearMinutes), LifetimeHours: hours(r.LifetimeMinutes), Stars: r.Stars,
		StarsBefore: r.StarsBefore, Tier: string(r.Tier), OfflineEvidence: r.OfflineEvidence, Replayed: r.Replayed})
}

func (h *checkinHandlers) serviceRecord(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	r, err := h.ck.ServiceRecord(c.Request().Context(), actor, id)
	if err != nil {
		return checkinError(err)
	}
	out := wire.ServiceRecord{VolunteerID: r.VolunteerID, Name: r.Name, Years: []wire.YearHours{},
		LifetimeHours: hours(r.LifetimeMinutes), Stars: r.Stars, Tier: string(r.Tier),
		MemberExpectationHours: r.MemberExpectation, Activities: []wire.AttendanceItem{}}
	for _, y := range r.Years {
		out.Years = append(out.Years, wire.YearHours{Year: y.Year, Minutes: y.Minutes, Hours: hours(y.Minutes)})
	}
	for _, a := range r.Attendances {
		it := wire.AttendanceItem{AttendanceID: a.ID, ActivityID: a.ActivityID, Title: a.Title, Site: a.Site,
			InAt: a.InAt, Minutes: a.Minutes, Hours: hours(a.Minutes), Corrected: a.Corrected}
		if !a.OutAt.IsZero() {
			t := a.OutAt
			it.OutAt = &t
		}
		out.Activities = append(out.Activities, it)
	}
	return c.JSON(http.StatusOK, out)
}

type addHoursRequest struct {
	Year   int     `json:"year"`
	Hours  float64 `json:"hours"`
	Reason string  `json:"reason"`
}

func (h *checkinHandlers) addHours(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req addHoursRequest
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, 200, true); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	ctx := c.Request().Context()
	if err := h.ck.AddServiceHours(ctx, actor, id, req.Year, req.Hours, req.Reason); err != nil {
		return checkinError(err)
	}
	return h.serviceRecord(c)
}

type correctionRequest struct {
	InAt   time.Time `json:"in_at"`
	OutAt  time.Time `json:"out_at"`
	Reason string    `json:"reason"`
}

func (h *checkinHandlers) correct(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req correctionRequest
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, 200, true); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	a, err := h.ck.CorrectAttendance(c.Request().Context(), actor, id, checkin.Correction{InAt: req.InAt,
		OutAt: req.OutAt, Reason: req.Reason})
	if err != nil {
		return checkinError(err)
	}
	out := a.OutAt
	return c.JSON(http.StatusOK, wire.AttendanceItem{AttendanceID: a.ID, ActivityID: a.ActivityID, InAt: a.InAt,
		OutAt: &out, Minutes: a.Minutes, Hours: hours(a.Minutes), Corrected: a.Corrected})
}

type memberHoursLine struct {
	OrgID   int64              `json:"org_id"`
	Members int                `json:"members"`
	Met     int                `json:"met"`
	Below   []memberHoursBelow `json:"below"`
}

type memberHoursBelow struct {
	VolunteerID int64   `json:"volunteer_id"`
	Name        string  `json:"name"`
	Hours       float64 `json:"hours"`
}

type memberHoursReport struct {
	OrgID         int64             `json:"org_id"`
	Year          int               `json:"year"`
	ExpectedHours float64           `json:"expected_hours"`
	Members       int               `json:"members"`
	Met           int               `json:"met"`
	Orgs          []memberHoursLine `json:"orgs"`
}

func (h *checkinHandlers) memberHours(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	year, err := h.s.queryYear(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	r, err := h.ck.MemberHoursReport(c.Request().Context(), actor, id, year)
	if err != nil {
		return checkinError(err)
	}
	out := memberHoursReport{OrgID: r.OrgID, Year: r.Year, ExpectedHours: r.ExpectedHours, Members: r.Members,
		Met: r.Met, Orgs: []memberHoursLine{}}
	for _, o := range r.Orgs {
		l := memberHoursLine{OrgID: o.OrgID, Members: o.Members, Met: o.Met, Below: []memberHoursBelow{}}
		for _, b := range o.Below {
			l.Below = append(l.Below, memberHoursBelow{VolunteerID: b.VolunteerID, Name: b.MaskedName, Hours: math.Round(b.Hours*100) / 100})
		}
		out.Orgs = append(out.Orgs, l)
	}
	return c.JSON(http.StatusOK, out)
}

// toOffer is the wire form of an offer.
func toOffer(o checkin.Offer) wire.Offer {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return wire.Offer{ID: o.ID, OrgID: o.OrgID, Tier: string(o.Tier), Title: o.Title, Description: o.Description,
		RequiresPIN: o.RequiresPIN, ValidFrom: opt(o.ValidFrom), ValidUntil: opt(o.ValidUntil),
		WithdrawnAt: opt(o.WithdrawnAt), WithdrawReason: o.WithdrawReason, CreatedAt: opt(o.CreatedAt),
		UpdatedAt: opt(o.UpdatedAt)}
}

// checkOfferText validates the free-text fields of an offer's body.
func checkOfferText(title, description *string, titleRequired bool) error {
	if title != nil {
		if err := checkText("title", *title, 100, titleRequired); err != nil {
			return err
		}
	}
	if description != nil {
		if err := checkText("description", *description, 500, false); err != nil {
			return err
		}
	}
	return nil
}

func (h *checkinHandlers) createOffer(c echo.Context) error {
	var req wire.NewOffer
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkOfferText(&req.Title, &req.Description, true); err != nil {
		return err
	}
	in := checkin.NewOffer{OrgID: req.OrgID, Tier: checkin.BenefitTier(req.Tier), Title: req.Title,
		Description: req.Description, RequiresPIN: req.RequiresPIN}
	if req.ValidFrom != nil {
		in.ValidFrom = *req.ValidFrom
	}
	if req.ValidUntil != nil {
		in.ValidUntil = *req.ValidUntil
	}
	actor, _ := actorFrom(c)
	o, err := h.ck.CreateOffer(c.Request().Context(), actor, in)
	if err != nil {
		return checkinError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/offers/"+strconv.FormatInt(o.ID, 10))
	return c.JSON(http.StatusCreated, toOffer(o))
}

// listOffers answers GET /v1/offers[?org=ID][&withdrawn=true]: the offers
// of the organisations in the caller's scope, oldest first.
func (h *checkinHandlers) listOffers(c echo.Context) error {
	var f checkin.OfferFilter
	var err error
	if f.OrgID, err = queryID(c, "org"); err != nil {
		return err
	}
	switch c.QueryParam("withdrawn") {
	case "", "false":
	case "true":
		f.Withdrawn = true
	default:
		return invalidField("withdrawn", "must be true or false")
	}
	actor, _ := actorFrom(c)
	offers, err := h.ck.ListOffers(c.Request().Context(), actor, f)
	if err != nil {
		return checkinError(err)
	}
	out := wire.OfferList{Items: make([]wire.Offer, 0, len(offers))}
	for _, o := range offers {
		out.Items = append(out.Items, toOffer(o))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *checkinHandlers) getOffer(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	o, err := h.ck.GetOffer(c.Request().Context(), actor, id)
	if err != nil {
		return checkinError(err)
	}
	return c.JSON(http.StatusOK, toOffer(o))
}

// changeOffer answers PATCH /v1/offers/{id}.
func (h *checkinHandlers) changeOffer(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req wire.OfferChange
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkOfferText(req.Title, req.Description, true); err != nil {
		return err
	}
	ch := checkin.OfferChange{Title: req.Title, Description: req.Description, RequiresPIN: req.RequiresPIN}
	if req.Tier != nil {
		t := checkin.BenefitTier(*req.Tier)
		ch.Tier = &t
	}
	for _, f := range []struct {
		in  wire.NullableTime
		out **time.Time
	}{{req.ValidFrom, &ch.ValidFrom}, {req.ValidUntil, &ch.ValidUntil}} {
		if !f.in.Set {
			continue
		}
		t := time.Time{} // null: open
		if f.in.Time != nil {
			t = *f.in.Time
		}
		*f.out = &t
	}
	actor, _ := actorFrom(c)
	o, err := h.ck.ChangeOffer(c.Request().Context(), actor, id, ch)
	if err != nil {
		return checkinError(err)
	}
	return c.JSON(http.StatusOK, toOffer(o))
}

// withdrawOffer answers POST /v1/offers/{id}/withdraw: 200 with the offer,
// withdrawn now or before (then nothing is written).
func (h *checkinHandlers) withdrawOffer(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	reason, err := h.s.decodeReason(c, false)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	o, _, err := h.ck.WithdrawOffer(c.Request().Context(), actor, id, reason)
	if err != nil {
		return checkinError(err)
	}
	return c.JSON(http.StatusOK, toOffer(o))
}

type blockCardRequest struct {
	PAN    string `json:"pan"`
	Reason string `json:"reason"`
}

// cardByPAN serves POST /v1/cards/block and /v1/cards/unblock: a card the
// bank issued, in the caller's scope, changes at the bank like POST
// /v1/cards/{id}/block (202, or 200 when nothing is to do); any other card
// the caller may change (checkin.Service.BlockCard) only at check-in
// (204). A card outside the caller's scope is 404 with nothing written.
func (h *checkinHandlers) cardByPAN(change issuance.CardChange) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req blockCardRequest
		if err := h.s.decodeJSON(c, &req); err != nil {
			return err
		}
		if err := checkText("reason", req.Reason, 200, change == issuance.CardChangeBlock); err != nil {
			return err
		}
		actor, _ := actorFrom(c)
		ctx := c.Request().Context()
		d, err := h.s.svc.CardByPAN(ctx, actor, req.PAN)
		switch {
		case err == nil:
			d, written, err := h.s.svc.RequestCardChange(ctx, actor,
				issuance.CardChangeRequest{CardID: d.ID, Change: change, Reason: req.Reason})
			if err != nil {
				return cardError(err)
			}
			if written {
				return c.JSON(http.StatusAccepted, toCard(d))
			}
			return c.JSON(http.StatusOK, toCard(d))
		case !errors.Is(err, issuance.ErrNotFound):
			return err
		}
		if change == issuance.CardChangeBlock {
			err = h.ck.BlockCard(ctx, actor, req.PAN, req.Reason)
		} else {
			err = h.ck.UnblockCard(ctx, actor, req.PAN, req.Reason)
		}
		if err != nil {
			return checkinError(err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func (h *checkinHandlers) benefits(c echo.Context) error {
	var req wire.BenefitsRequest
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("challenge_id", req.ChallengeID, 64, true); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	b, err := h.ck.CheckBenefits(c.Request().Context(), actor, checkin.BenefitsInput{ChallengeID: req.ChallengeID,
		Evidence: req.Card})
	if err != nil {
		return checkinError(err)
	}
	out := wire.Benefits{Name: b.MaskedName, Stars: b.Stars, Tier: string(b.Tier), Offers: []wire.Offer{},
		CheckID: b.CheckRef}
	for _, o := range b.Offers {
		w := toOffer(o)
		w.CreatedAt, w.UpdatedAt = nil, nil // what the merchant needs only
		out.Offers = append(out.Offers, w)
	}
	return c.JSON(http.StatusOK, out)
}

// redeem answers POST /v1/benefits/redemptions: 201 with the redemption,
// or 200 with the first one for the same check and offer (replayed).
func (h *checkinHandlers) redeem(c echo.Context) error {
	var req wire.RedemptionRequest
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("check_id", req.CheckID, 64, true); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	r, replayed, err := h.ck.Redeem(c.Request().Context(), actor, checkin.RedeemInput{CheckRef: req.CheckID,
		OfferID: req.OfferID, CVM: checkin.CVM(req.CVM)})
	if err != nil {
		return checkinError(err)
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	return c.JSON(status, wire.Redemption{ID: r.ID, OfferID: r.OfferID, CVM: string(r.CVM), At: r.At, Replayed: replayed})
}

// listRedemptions answers GET /v1/offers/{id}/redemptions.
func (h *checkinHandlers) listRedemptions(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	rs, err := h.ck.Redemptions(c.Request().Context(), actor, id)
	if err != nil {
		return checkinError(err)
	}
	out := wire.RedemptionList{Items: make([]wire.Redemption, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, wire.Redemption{ID: r.ID, OfferID: r.OfferID, VolunteerID: r.VolunteerID,
			TerminalID: r.ActorTokenID, CVM: string(r.CVM), At: r.At})
	}
	return c.JSON(http.StatusOK, out)
}
