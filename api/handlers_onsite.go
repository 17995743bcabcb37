package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/roster"
	"github.com/volcard/volcard/wire"
)

// On-site batch enrollment routes (issue 7). The bodies are
// package wire's, which the enroll command shares.

// RosterBodyLimit is the largest roster upload accepted (the roster
// package's default file limit).
var RosterBodyLimit = roster.DefaultLimits.MaxBytes

// EnableOnsite registers the /v1/onsite-sessions routes, served by o, and
// adds them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableOnsite(o *onsite.Service) error {
	if o == nil {
		return errors.New("api: nil on-site service")
	}
	s.onsite = o
	auth, idem := s.authenticate(), s.idempotency()
	v1 := s.e.Group("/v1")
	const (
		pa = issuance.RoleProvinceAdmin
		oa = issuance.RoleOrgAdmin
		bs = issuance.RoleBankStaff
	)
	v1.POST("/onsite-sessions", s.requestOnsiteSession, auth, allow(pa, oa), idem)
	v1.GET("/onsite-sessions", s.listOnsiteSessions, auth, allow(pa, oa, bs))
	v1.GET("/onsite-sessions/:id", s.getOnsiteSession, auth, allow(pa, oa, bs))
	v1.GET("/onsite-sessions/roster-template.csv", s.rosterTemplateCSV, auth, allow(pa, oa, bs))
	v1.GET("/onsite-sessions/roster-template.xlsx", s.rosterTemplateXLSX, auth, allow(pa, oa, bs))
	for action, to := range sessionActions {
		roles := []issuance.Role{pa, bs}
		if to == onsite.SessionCancelled {
			roles = append(roles, oa)
		}
		v1.POST("/onsite-sessions/:id/"+action, s.transitionOnsiteSession(to), auth, allow(roles...), idem)
	}
	v1.POST("/onsite-sessions/:id/roster", s.uploadRoster, auth, allow(pa, oa, bs))
	v1.GET("/onsite-sessions/:id/rejected.csv", s.rejectedCSV, auth, allow(pa, oa, bs))
	v1.POST("/onsite-sessions/:id/approve", s.approveOnsiteSession, auth, allow(pa, oa), idem)
	v1.GET("/onsite-sessions/:id/report", s.onsiteReport, auth, allow(pa, oa, bs))
	v1.GET("/onsite-sessions/:id/queue", s.onsiteQueue, auth, allow(pa, oa, bs))
	v1.POST("/onsite-sessions/:id/queue/:entry", s.markOnsiteEntry, auth, allow(pa, bs), idem)
	return s.extendOpenAPI(onsiteOpenAPI)
}

var sessionActions = map[string]onsite.SessionStatus{
	"schedule": onsite.SessionScheduled,
	"start":    onsite.SessionInProgress,
	"complete": onsite.SessionCompleted,
	"cancel":   onsite.SessionCancelled,
}

// onsiteError maps on-site errors that the central mapping does not know.
func onsiteError(err error) error {
	var te *onsite.SessionTransitionError
	var me *onsite.RosterModeError
	var he *roster.HeaderError
	var fe *roster.FileError
	switch {
	case errors.As(err, &me):
		return &Error{Kind: KindConflict, Detail: me.Error()}
	case errors.As(err, &te):
		if te.From == te.To {
			return &Error{Kind: KindIllegalTransition, Detail: "the on-site session is " + string(te.From) + "; rosters and approvals are closed"}
		}
		return &Error{Kind: KindIllegalTransition, Detail: "an on-site session in status " + string(te.From) + " cannot become " + string(te.To)}
	case errors.As(err, &he):
		e := &Error{Kind: KindValidation, Detail: he.Error()}
		for _, f := range he.Missing {
			e.Fields = append(e.Fields, wire.FieldError{Field: string(f), Message: "required column " + f.Label() + " is missing"})
		}
		for _, f := range he.Duplicate {
			e.Fields = append(e.Fields, wire.FieldError{Field: string(f), Message: "column " + f.Label() + " appears twice"})
		}
		return e
	case errors.Is(err, roster.ErrTooLarge):
		return &Error{Kind: KindPayloadTooLarge, Detail: rosterDetail(fe, err)}
	case errors.As(err, &fe):
		return &Error{Kind: KindValidation, Detail: fe.Error()}
	}
	return err
}

func rosterDetail(fe *roster.FileError, err error) string {
	if errors.As(err, &fe) {
		return fe.Error()
	}
	return "the roster file is too large"
}

// toOnsiteSession maps a session. The branch contact's phone is the bank's
// work number that the organisation needs to arrange the visit, so it is
// shown in full (unlike volunteers' phones).
func toOnsiteSession(s onsite.Session) wire.OnsiteSession {
	phone := s.Branch.Contact.Phone.Reveal()
	return wire.OnsiteSession{
		ID: s.ID, OrgID: s.OrgID, CityID: s.CityID, Product: s.ProductCode, Bank: s.BankCode, Site: s.Site,
		Date: s.Date.Format(time.DateOnly), ExpectedCount: s.ExpectedCount, Status: string(s.Status), Reason: s.Reason,
		Branch: wire.OnsiteBranch{ID: s.Branch.ID, Bank: s.Branch.BankCode, Name: s.Branch.Name,
			ContactName: s.Branch.Contact.Name, ContactPhone: phone},
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func (s *Server) requestOnsiteSession(c echo.Context) error {
	var req wire.NewOnsiteSession
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("site", req.Site, 200, true); err != nil {
		return err
	}
	if err := checkText("product", req.Product, 40, true); err != nil {
		return err
	}
	if req.OrgID <= 0 {
		return invalidField("org_id", "is required and must be a positive integer")
	}
	date, err := time.Parse(time.DateOnly, strings.TrimSpace(req.Date))
	if err != nil {
		return invalidField("date", "must be a date YYYY-MM-DD")
	}
	actor, _ := actorFrom(c)
	sess, err := s.onsite.Request(c.Request().Context(), actor, onsite.NewSession{
		OrgID: req.OrgID, Site: req.Site, Date: date, ExpectedCount: req.ExpectedCount, ProductCode: req.Product})
	if err != nil {
		return onsiteError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/onsite-sessions/"+strconv.FormatInt(sess.ID, 10))
	return c.JSON(http.StatusCreated, toOnsiteSession(sess))
}

// listOnsiteSessions lists the sessions in the caller's scope, newest
// first, with cursor pagination like GET /v1/applications.
func (s *Server) listOnsiteSessions(c echo.Context) error {
	f := onsite.SessionFilter{Status: onsite.SessionStatus(c.QueryParam("state")), Cursor: c.QueryParam("cursor")}
	var err error
	if f.OrgID, err = queryID(c, "org"); err != nil {
		return err
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > issuance.MaxPageSize {
			return invalidField("limit", "must be an integer from 1 to "+strconv.Itoa(issuance.MaxPageSize))
		}
		f.Limit = n
	}
	for _, p := range []struct{ name, v string }{{"state", string(f.Status)}, {"cursor", f.Cursor}} {
		if err := checkText(p.name, p.v, 64, false); err != nil {
			return err
		}
	}
	actor, _ := actorFrom(c)
	page, err := s.onsite.List(c.Request().Context(), actor, f)
	if err != nil {
		return onsiteError(err)
	}
	out := wire.OnsiteSessionPage{Items: make([]wire.OnsiteSessionItem, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, it := range page.Items {
		out.Items = append(out.Items, wire.OnsiteSessionItem{OnsiteSession: toOnsiteSession(it.Session),
			OrgName: it.OrgName, Accepted: it.Accepted, Rejected: it.Rejected})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getOnsiteSession(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	sess, err := s.onsite.Get(c.Request().Context(), actor, id)
	if err != nil {
		return onsiteError(err)
	}
	return c.JSON(http.StatusOK, toOnsiteSession(sess))
}

func (s *Server) transitionOnsiteSession(to onsite.SessionStatus) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		reason, err := s.decision(c)
		if err != nil {
			return err
		}
		actor, _ := actorFrom(c)
		sess, err := s.onsite.Transition(c.Request().Context(), actor, id, to, reason)
		if err != nil {
			return onsiteError(err)
		}
		return c.JSON(http.StatusOK, toOnsiteSession(sess))
	}
}

// readRoster returns the uploaded file and its format ("" to detect): a
// multipart/form-data part named "file" (or the first file part), or the
// raw body as text/csv, the XLSX type or application/octet-stream.
func readRoster(c echo.Context) ([]byte, roster.Format, string, error) {
	req := c.Request()
	limit := RosterBodyLimit
	if req.ContentLength > limit+64<<10 {
		return nil, "", "", newError(KindPayloadTooLarge, "the roster exceeds %d bytes", limit)
	}
	body := http.MaxBytesReader(c.Response(), req.Body, limit+64<<10)
	tooLarge := func(err error) error {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return newError(KindPayloadTooLarge, "the roster exceeds %d bytes", limit)
		}
		return &Error{Kind: KindValidation, Detail: "the upload could not be read", Internal: err}
	}
	mt, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil {
		return nil, "", "", newError(KindUnsupportedMedia, "send multipart/form-data, text/csv or %s", roster.MediaXLSX)
	}
	readLimited := func(r io.Reader) ([]byte, error) {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return nil, tooLarge(err)
		}
		if int64(len(b)) > limit {
			return nil, newError(KindPayloadTooLarge, "the roster exceeds %d bytes", limit)
		}
		return b, nil
	}
	switch {
	case mt == "multipart/form-data":
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, "", "", invalidField("file", "no file part in the form")
			}
			if err != nil {
				return nil, "", "", tooLarge(err)
			}
			if part.FormName() != "file" && part.FileName() == "" {
				continue
			}
			b, err := readLimited(part)
			if err != nil {
				return nil, "", "", err
			}
			f, _ := roster.FormatFromMediaType(part.Header.Get("Content-Type"))
			return b, f, part.FileName(), nil
		}
	case mt == "application/octet-stream":
		b, err := readLimited(body)
		return b, "", "", err
	default:
		f, ok := roster.FormatFromMediaType(mt)
		if !ok {
			return nil, "", "", newError(KindUnsupportedMedia, "send multipart/form-data, text/csv or %s", roster.MediaXLSX)
		}
		b, err := readLimited(body)
		return b, f, "", err
	}
}

func (s *Server) uploadRoster(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	only := c.QueryParam("rows")
	if only != "" && only != "all" && only != "rejected" {
		return invalidField("rows", "must be all or rejected")
	}
	data, format, filename, err := readRoster(c)
	if err != nil {
		return err
	}
	if filename == "" {
		filename = c.QueryParam("filename")
	}
	if err := checkText("filename", filename, 200, false); err != nil {
		return err
	}
	mode := onsite.RosterMode(c.QueryParam("mode"))
	if mode != "" && mode != onsite.RosterAppend && mode != onsite.RosterReplace {
		return invalidField("mode", "must be append or replace")
	}
	actor, _ := actorFrom(c)
	rep, err := s.onsite.UploadRoster(c.Request().Context(), actor, id, onsite.RosterInput{Data: data, Format: format,
		Filename: filename, Mode: mode})
	if err != nil {
		return onsiteError(err)
	}
	out := wire.RosterReport{
		SessionID: id, UploadID: rep.Upload.ID, SHA256: rep.Upload.SHA256, Format: rep.Upload.Format,
		Encoding: rep.Upload.Encoding, Repeated: rep.Repeated, Rows: rep.Rows, Accepted: rep.Accepted,
		Stored: rep.Stored, AlreadyStored: rep.AlreadyStored, Rejected: rep.Rejected, BlankRows: rep.BlankRows,
		Mode: string(rep.Upload.Mode), Removed: rep.Upload.Removed,
		Items: make([]wire.RosterRow, 0, len(rep.Results)),
	}
	if rep.Rejected > 0 {
		out.RejectedURL = "/v1/onsite-sessions/" + strconv.FormatInt(id, 10) + "/rejected.csv"
	}
	reveal := revealRosterPII(actor)
	for _, r := range rep.Results {
		if only == "rejected" && r.Status != onsite.RowRejected {
			continue
		}
		row := wire.RosterRow{Line: r.Line, Status: string(r.Status), Existing: r.Existing, Name: r.Name,
			IDNumber: r.IDNumber.Masked(), Phone: r.Phone.Masked(), VolunteerID: r.VolunteerID,
			ApplicationID: r.ApplicationID, NewVolunteer: r.NewVolunteer}
		if reveal {
			row.IDNumber, row.Phone = r.IDNumber.Reveal(), r.Phone.Reveal()
		}
		for _, why := range r.Reasons {
			row.Reasons = append(row.Reasons, wire.RowReason{Code: string(why.Code), Field: why.Field, Message: why.Message})
		}
		out.Items = append(out.Items, row)
	}
	return c.JSON(http.StatusOK, out)
}

// rejectedCSV serves the rejected rows of the latest upload as CSV with a
// reason column: UTF-8 with a BOM (Excel opens it), or GB18030 with
// ?encoding=gb18030. ID numbers and phones are shown in full to bank staff
// (who verify identities on site) and masked for the other roles, as in
// every response; the line column finds the row in the original file.
func (s *Server) rejectedCSV(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	enc, err := roster.ParseEncoding(c.QueryParam("encoding"))
	if err != nil {
		return invalidField("encoding", "must be utf-8 or gb18030")
	}
	actor, _ := actorFrom(c)
	_, rows, err := s.onsite.RejectedRows(c.Request().Context(), actor, id)
	if err != nil {
		return onsiteError(err)
	}
	reveal := revealRosterPII(actor)
	rj := make([]roster.Reject, len(rows))
	for i, r := range rows {
		idn, ph := r.IDNumber.Masked(), r.Phone.Masked()
		if reveal {
			idn, ph = r.IDNumber.Reveal(), r.Phone.Reveal()
		}
		rj[i] = roster.Reject{Line: r.Line, Values: map[roster.Field]string{
			roster.FieldName: r.Name, roster.FieldIDNumber: idn, roster.FieldPhone: ph,
			roster.FieldLeagueMember: r.League, roster.FieldClothingSize: r.Size, roster.FieldEmbossName: r.Emboss,
		}}
		for _, why := range r.Reasons {
			rj[i].Reasons = append(rj[i].Reasons, why.Message+" ["+string(why.Code)+"]")
		}
	}
	var buf bytes.Buffer
	if err := roster.WriteRejects(&buf, enc, rj); err != nil {
		return err
	}
	charset := "utf-8"
	if enc == roster.GB18030 {
		charset = "gb18030"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="session-`+strconv.FormatInt(id, 10)+`-rejected.csv"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset="+charset, buf.Bytes())
}

func (s *Server) approveOnsiteSession(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if reason, err := s.decision(c); err != nil {
		return err
	} else if reason != "" {
		return invalidField("reason", "approval takes no reason")
	}
	actor, _ := actorFrom(c)
	ap, err := s.onsite.Approve(c.Request().Context(), actor, id)
	if err != nil {
		return onsiteError(err)
	}
	return c.JSON(http.StatusOK, wire.OnsiteApproval{SessionID: id, Approved: ap.Approved, Sent: ap.Sent})
}

func (s *Server) onsiteReport(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	ctx := c.Request().Context()
	sess, err := s.onsite.Get(ctx, actor, id)
	if err != nil {
		return onsiteError(err)
	}
	n, err := s.onsite.Report(ctx, actor, id)
	if err != nil {
		return onsiteError(err)
	}
	return c.JSON(http.StatusOK, wire.OnsiteReport{SessionID: id, Status: string(sess.Status),
		Requested: n.Requested, Accepted: n.Accepted, Rejected: n.Rejected, Submitted: n.Submitted, Approved: n.Approved,
		Sent: n.Sent, BankApproved: n.BankApproved, BankDeclined: n.BankDeclined, Personalized: n.Personalized,
		Failed: n.Failed, Cancelled: n.Cancelled, UploadedRows: n.UploadedRows, Uploads: toUploadSummaries(n.Uploads)})
}

func (s *Server) onsiteQueue(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	q, err := s.onsite.Queue(c.Request().Context(), actor, id)
	if err != nil {
		return onsiteError(err)
	}
	out := wire.OnsiteQueue{SessionID: id, Items: make([]wire.QueueItem, len(q))}
	for i, it := range q {
		out.Items[i] = wire.QueueItem{Position: it.Position, EntryID: it.Entry.ID, ApplicationID: it.Entry.ApplicationID,
			ApplicationNumber: it.ApplicationNumber, VolunteerID: it.Entry.VolunteerID, Name: it.Entry.Name,
			EmbossName: it.EmbossName, Status: string(it.Status), Personalize: string(it.Entry.Personalize),
			Attempts: it.Entry.Attempts, Note: it.Entry.Note}
	}
	return c.JSON(http.StatusOK, out)
}

// markOnsiteEntry records a personalization outcome for a queue entry:
// the hook of `volcard personalize --batch`.
func (s *Server) markOnsiteEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	entry, err := strconv.ParseInt(c.Param("entry"), 10, 64)
	if err != nil || entry <= 0 {
		return invalidField("entry", "must be a positive integer")
	}
	var req wire.QueueMark
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("note", req.Note, 500, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	e, err := s.onsite.MarkEntry(c.Request().Context(), actor, id, entry, onsite.PersonalizeState(req.State), req.Note)
	if err != nil {
		return onsiteError(err)
	}
	return c.JSON(http.StatusOK, wire.QueueItem{EntryID: e.ID, ApplicationID: e.ApplicationID, VolunteerID: e.VolunteerID,
		Name: e.Name, Personalize: string(e.Personalize), Attempts: e.Attempts, Note: e.Note})
}

// toUploadSummaries lists a session's roster uploads for its report.
func toUploadSummaries(us []onsite.RosterUpload) []wire.RosterUploadSummary {
	out := make([]wire.RosterUploadSummary, 0, len(us))
	for _, u := range us {
		out = append(out, wire.RosterUploadSummary{ID: u.ID, Filename: u.Filename, Mode: string(u.Mode), Rows: u.Rows,
			Accepted: u.Accepted, Rejected: u.Rejected, Removed: u.Removed, At: u.CreatedAt})
	}
	return out
}
