package api

// The platform link's routes (issue 17): the registration requests sent to
// the platform (province admins list them and retry failed ones), a
// volunteer's platform number set later by staff, and the bulk import of
// the platform's volunteers and hours in batches (docs/platform-interface.md
// section 4).

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/wire"
)

// ImportBodyLimit is the largest import batch body accepted (a batch is at
// most platformlink.MaxBatchRows rows).
const ImportBodyLimit = 8 << 20

const platformCursorPrefix = "p1:"

var platformRequestStates = []string{"pending", "in_flight", "done", "failed"}

// platformRoutes holds the platform link's handlers.
type platformRoutes struct {
	s  *Server
	pl *platformlink.Service
}

// EnablePlatform registers the platform link's routes, served by pl, and
// adds them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnablePlatform(pl *platformlink.Service) error {
	if pl == nil {
		return errors.New("api: nil platform link")
	}
	h := &platformRoutes{s: s, pl: pl}
	const (
		pa = issuance.RoleProvinceAdmin
		oa = issuance.RoleOrgAdmin
		pf = issuance.RolePlatform
	)
	auth, idem := s.authenticate(), s.idempotency()
	s.e.GET("/v1/admin/platform-requests", h.list, auth, allow(pa))
	s.e.POST("/v1/admin/platform-requests/:id/retry", h.retry, auth, allow(pa), idem)
	s.e.PUT("/v1/volunteers/:id/platform-number", h.setNumber, auth, allow(pa, oa), idem)
	// A batch is its own idempotency key (import_id, seq): no
	// Idempotency-Key, and bodies up to ImportBodyLimit.
	s.e.POST("/v1/imports/volunteers", h.importVolunteers, auth, allow(pa, pf))
	s.e.POST("/v1/imports/hours", h.importHours, auth, allow(pa, pf))
	s.e.GET("/v1/imports/:id", h.status, auth, allow(pa, pf))
	return s.extendOpenAPI(platformOpenAPI)
}

func toPlatformRequest(r platformlink.Request) wire.PlatformRequest {
	out := wire.PlatformRequest{ID: r.ID, VolunteerID: r.VolunteerID, State: string(r.State), Attempts: r.Attempts,
		VolunteerNumber: r.Number, Matched: r.Matched, LastError: r.LastError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.State == platformlink.StatePending && !r.NextAttemptAt.IsZero() {
		at := r.NextAttemptAt
		out.NextAttemptAt = &at
	}
	return out
}

func (h *platformRoutes) list(c echo.Context) error {
	q := c.QueryParams()
	if err := oneOf("state", q.Get("state"), platformRequestStates); err != nil {
		return err
	}
	f := platformlink.Filter{State: platformlink.State(q.Get("state")), Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalidField("limit", "want an integer 1–1000")
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		id, err := issuance.DecodeIDCursor(platformCursorPrefix, v)
		if err != nil {
			return err
		}
		f.BeforeID = id
	}
	actor, _ := actorFrom(c)
	rows, err := h.pl.List(c.Request().Context(), actor, f)
	if err != nil {
		return err
	}
	out := wire.PlatformRequestList{Items: make([]wire.PlatformRequest, 0, len(rows))}
	for _, r := range rows {
		out.Items = append(out.Items, toPlatformRequest(r))
	}
	if len(rows) == f.Limit && len(rows) > 0 {
		out.NextCursor = issuance.EncodeIDCursor(platformCursorPrefix, rows[len(rows)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *platformRoutes) retry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req wire.PlatformRetry
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, 200, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	r, err := h.pl.Retry(c.Request().Context(), actor, id, req.Reason)
	if errors.Is(err, platformlink.ErrNotFailed) {
		return &Error{Kind: KindConflict, Detail: "only a failed request can be retried"}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPlatformRequest(r))
}

func (h *platformRoutes) setNumber(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req wire.PlatformNumber
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("volunteer_number", req.VolunteerNumber, 32, true); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, 200, true); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	v, err := h.pl.SetNumber(c.Request().Context(), actor, id, req.VolunteerNumber, req.Reason)
	if err != nil {
		return err
	}
	return h.s.volunteerJSON(c, http.StatusOK, actor, v)
}

func toBatchResult(r platformlink.BatchResult) wire.ImportBatchResult {
	out := wire.ImportBatchResult{ImportID: r.ImportID, Seq: r.Seq, Kind: r.Kind, Rows: r.Rows, Created: r.Created,
		Updated: r.Updated, Replayed: r.Replayed, Rejects: make([]wire.ImportReject, len(r.Rejects))}
	for i, x := range r.Rejects {
		out.Rejects[i] = wire.ImportReject(x)
	}
	return out
}

// importRow converts a wire row to the domain's.
func importRow(r wire.ImportVolunteer) platformlink.ImportRow {
	return platformlink.ImportRow{Line: r.Line, Volunteer: issuance.NewVolunteer{OrgID: r.OrgID, Name: r.Name,
		EmbossName: r.EmbossName, IDType: issuance.IDType(r.IDType), IDNumber: r.IDNumber, BirthDate: r.BirthDate,
		Phone: r.Phone, LeagueMember: r.LeagueMember, PartyMember: r.PartyMember,
		ClothingSize: issuance.ClothingSize(r.ClothingSize), VolunteerNumber: strings.TrimSpace(r.VolunteerNumber)}}
}

func (h *platformRoutes) importVolunteers(c echo.Context) error {
	b, err := readBody(c, ImportBodyLimit)
	if err != nil {
		return err
	}
	var req wire.ImportVolunteersBatch
	if err := decodeStrict(b, &req); err != nil {
		return err
	}
	rows := make([]platformlink.ImportRow, len(req.Rows))
	for i, r := range req.Rows {
		rows[i] = importRow(r)
	}
	actor, _ := actorFrom(c)
	res, err := h.pl.ImportVolunteers(c.Request().Context(), actor,
		platformlink.BatchKey{ImportID: req.ImportID, Seq: req.Seq}, rows)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toBatchResult(res))
}

func (h *platformRoutes) importHours(c echo.Context) error {
	b, err := readBody(c, ImportBodyLimit)
	if err != nil {
		return err
	}
	var req wire.ImportHoursBatch
	if err := decodeStrict(b, &req); err != nil {
		return err
	}
	rows := make([]platformlink.HoursRow, len(req.Rows))
	for i, r := range req.Rows {
		rows[i] = platformlink.HoursRow{Line: r.Line, Number: strings.TrimSpace(r.VolunteerNumber), Minutes: -1}
		if !math.IsNaN(r.Hours) && !math.IsInf(r.Hours, 0) && r.Hours >= 0 && r.Hours <= 200000 {
			rows[i].Minutes = int64(math.Round(r.Hours * 60))
		}
	}
	actor, _ := actorFrom(c)
	res, err := h.pl.ImportHours(c.Request().Context(), actor,
		platformlink.BatchKey{ImportID: req.ImportID, Seq: req.Seq}, rows)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toBatchResult(res))
}

func (h *platformRoutes) status(c echo.Context) error {
	id := c.Param("id")
	actor, _ := actorFrom(c)
	rs, err := h.pl.Results(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	out := wire.ImportStatus{ImportID: id, Batches: make([]wire.ImportBatchResult, len(rs))}
	for i, r := range rs {
		out.Batches[i] = toBatchResult(r)
	}
	return c.JSON(http.StatusOK, out)
}
