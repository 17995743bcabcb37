package api

// Reports (issue 8): targets, application funnel, service hours, clothing
// order list and contacts, as JSON, CSV (UTF-8 with BOM, for Excel) or
// XLSX, chosen by ?format=json|csv|xlsx or the Accept header.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance/reports"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/roster"
	"github.com/volcard/volcard/pii"
)

// Media types of the report formats.
const (
	MediaCSV  = "text/csv"
	MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// utf8BOM makes Excel read a CSV file as UTF-8.
const utf8BOM = "\uFEFF"

// EnableReports registers the /v1/reports routes, served by r, and adds
// them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableReports(r *reports.Service) error {
	if r == nil {
		return errors.New("api: nil reports service")
	}
	s.reports = r
	auth := s.authenticate()
	v1 := s.e.Group("/v1")
	const (
		pa = issuance.RoleProvinceAdmin
		oa = issuance.RoleOrgAdmin
		bs = issuance.RoleBankStaff
	)
	v1.GET("/reports/targets", s.reportTargets, auth, allow(pa, oa))
	v1.GET("/reports/applications", s.reportApplications, auth, allow(pa, oa, bs))
	v1.GET("/reports/service-hours", s.reportServiceHours, auth, allow(pa, oa))
	v1.GET("/reports/clothing", s.reportClothing, auth, allow(pa, oa))
	v1.GET("/reports/contacts", s.reportContacts, auth, allow(pa, oa, bs))
	v1.GET("/reports/activity-checkins", s.reportActivityCheckins, auth, allow(pa, oa))
	s.targetRoutes(v1, auth, s.idempotency()) // handlers_admin.go
	if err := s.extendOpenAPI(targetsOpenAPI); err != nil {
		return err
	}
	return s.extendOpenAPI(reportsOpenAPI)
}

// table is the tabular form of a report, for CSV and XLSX.
type table struct {
	Name    string // file and sheet name, ASCII
	Columns []string
	Rows    [][]any
}

// reportFormat picks json, csv or xlsx from ?format= or Accept.
func reportFormat(c echo.Context) (string, error) {
	switch f := strings.ToLower(c.QueryParam("format")); f {
	case "json", "csv", "xlsx":
		return f, nil
	case "":
	default:
		return "", invalidField("format", "must be json, csv or xlsx")
	}
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case MediaCSV:
			return "csv", nil
		case MediaXLSX:
			return "xlsx", nil
		case "application/json":
			return "json", nil
		}
	}
	return "json", nil
}

// writeReport answers with body as JSON, or t as CSV or XLSX.
func writeReport(c echo.Context, format string, body any, t func() table) error {
	switch format {
	case "csv":
		tb := t()
		b, err := tableCSV(tb)
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+tb.Name+`.csv"`)
		return c.Blob(http.StatusOK, MediaCSV+"; charset=utf-8", b)
	case "xlsx":
		tb := t()
		b, err := tableXLSX(tb)
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+tb.Name+`.xlsx"`)
		return c.Blob(http.StatusOK, MediaXLSX, b)
	default:
		return c.JSON(http.StatusOK, body)
	}
}

func cellString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// tableCSV renders t as CSV with a UTF-8 byte order mark.
func tableCSV(t table) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(utf8BOM)
	w := csv.NewWriter(&buf)
	if err := w.Write(t.Columns); err != nil {
		return nil, err
	}
	rec := make([]string, len(t.Columns))
	for _, r := range t.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(r) {
				if text, ok := r[i].(string); ok {
					rec[i] = roster.SafeCell(text) // numbers stay numbers, a negative one too
				} else {
					rec[i] = cellString(r[i])
				}
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// tableXLSX renders t as a one-sheet workbook; numbers stay numbers.
func tableXLSX(t table) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := t.Name
	if len(sheet) > 31 {
		sheet = sheet[:31]
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	head := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		head[i] = c
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	for i, r := range t.Rows {
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return nil, fmt.Errorf("xlsx: %w", err)
		}
		row := make([]any, len(r))
		for j, v := range r {
			if s, ok := v.(string); ok {
				row[j] = roster.SafeCell(s)
			} else {
				row[j] = v
			}
		}
		if err := sw.SetRow(cell, row); err != nil {
			return nil, fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	return buf.Bytes(), nil
}

// queryYear parses ?year= (default: the current year in China).
func (s *Server) queryYear(c echo.Context) (int, error) {
	v := c.QueryParam("year")
	if v == "" {
		return s.opts.Now().In(issuance.ChinaTime).Year(), nil
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 2000 || y > 2100 {
		return 0, invalidField("year", "must be a year 2000–2100")
	}
	return y, nil
}

// reportQuery is what a report request names: the output format, the year
// (per-year reports only), the ?org= subtree (0: the caller's own scope)
// and the caller.
type reportQuery struct {
	format string
	year   int
	org    int64
	actor  issuance.Actor
}

// readReportQuery reads ?format=, then ?year= when perYear, then ?org=,
// and answers the first that is invalid.
func (s *Server) readReportQuery(c echo.Context, perYear bool) (reportQuery, error) {
	var q reportQuery
	var err error
	if q.format, err = reportFormat(c); err != nil {
		return reportQuery{}, err
	}
	if perYear {
		if q.year, err = s.queryYear(c); err != nil {
			return reportQuery{}, err
		}
	}
	if q.org, err = queryID(c, "org"); err != nil {
		return reportQuery{}, err
	}
	q.actor, _ = actorFrom(c)
	return q, nil
}

// Report responses.

type indicatorResponse struct {
	Indicator   string   `json:"indicator"`
	Numerator   int64    `json:"numerator"`
	Denominator int64    `json:"denominator"`
	Value       *float64 `json:"value"`  // null without a denominator
	Target      *float64 `json:"target"` // null without a target
	Rating      string   `json:"rating"`
}

type orgTargetsResponse struct {
	OrgID              int64               `json:"org_id"`
	ParentID           int64               `json:"parent_id,omitempty"`
	Kind               string              `json:"kind"`
	Name               string              `json:"name"`
	RegionCode         string              `json:"region_code,omitempty"`
	Depth              int                 `json:"depth"`
	ResidentPopulation int64               `json:"resident_population"`
	LeagueMembers      int64               `json:"league_members"`
	Registered         int64               `json:"registered"`
	LeagueRegistered   int64               `json:"league_registered"`
	Holders            int64               `json:"holders"`
	CityCardHolders    int64               `json:"city_card_holders"`
	NewVolunteers      int64               `json:"new_volunteers"`
	NewWithCard        int64               `json:"new_with_card"`
	Indicators         []indicatorResponse `json:"indicators"`
}

type targetsReportResponse struct {
	Year        int                  `json:"year"`
	RootOrgID   int64                `json:"root_org_id"`
	GeneratedAt time.Time            `json:"generated_at"`
	Rows        []orgTargetsResponse `json:"rows"`
}

func (s *Server) reportTargets(c echo.Context) error {
	q, err := s.readReportQuery(c, true)
	if err != nil {
		return err
	}
	rep, err := s.reports.TargetsReport(c.Request().Context(), q.actor, q.year, q.org)
	if err != nil {
		return err
	}
	out := targetsReportResponse{Year: rep.Year, RootOrgID: rep.RootOrgID, GeneratedAt: rep.GeneratedAt,
		Rows: make([]orgTargetsResponse, 0, len(rep.Rows))}
	for _, r := range rep.Rows {
		row := orgTargetsResponse{OrgID: r.OrgID, ParentID: r.ParentID, Kind: string(r.Kind), Name: r.Name,
			RegionCode: r.RegionCode, Depth: r.Depth, ResidentPopulation: r.ResidentPopulation,
			LeagueMembers: r.LeagueMembers, Registered: r.Registered, LeagueRegistered: r.LeagueRegistered,
			Holders: r.Holders, CityCardHolders: r.CityCardHolders, NewVolunteers: r.NewVolunteers,
			NewWithCard: r.NewWithCard}
		for _, v := range r.Indicators {
			ir := indicatorResponse{Indicator: string(v.Indicator), Numerator: v.Numerator,
				Denominator: v.Denominator, Rating: string(v.Rating)}
			if v.HasValue {
				x := v.Value
				ir.Value = &x
			}
			if v.TargetBP > 0 {
				x := v.Target
				ir.Target = &x
			}
			row.Indicators = append(row.Indicators, ir)
		}
		out.Rows = append(out.Rows, row)
	}
	return writeReport(c, q.format, out, func() table {
		t := table{Name: fmt.Sprintf("targets-%d", q.year), Columns: []string{"org_id", "name", "kind", "region_code",
			"resident_population", "league_members", "registered", "league_registered", "holders",
			"city_card_holders", "new_volunteers", "new_with_card"}}
		for _, ind := range reports.Indicators {
			t.Columns = append(t.Columns, string(ind), string(ind)+"_target", string(ind)+"_rating")
		}
		for _, r := range out.Rows {
			row := []any{r.OrgID, r.Name, r.Kind, r.RegionCode, r.ResidentPopulation, r.LeagueMembers,
				r.Registered, r.LeagueRegistered, r.Holders, r.CityCardHolders, r.NewVolunteers, r.NewWithCard}
			for _, v := range r.Indicators {
				var val, tgt any
				if v.Value != nil {
					val = *v.Value
				}
				if v.Target != nil {
					tgt = *v.Target
				}
				row = append(row, val, tgt, v.Rating)
			}
			t.Rows = append(t.Rows, row)
		}
		return t
	})
}

type funnelRowResponse struct {
	Status   string `json:"status"`
	Channel  string `json:"channel"`
	BankCode string `json:"bank_code"`
	Count    int64  `json:"count"`
}

type funnelResponse struct {
	ByStatus map[string]int64    `json:"by_status"`
	Rows     []funnelRowResponse `json:"rows"`
}

func (s *Server) reportApplications(c echo.Context) error {
	q, err := s.readReportQuery(c, false)
	if err != nil {
		return err
	}
	rows, err := s.reports.ApplicationFunnel(c.Request().Context(), q.actor, q.org)
	if err != nil {
		return err
	}
	out := funnelResponse{ByStatus: map[string]int64{}, Rows: make([]funnelRowResponse, 0, len(rows))}
	for _, st := range issuance.Statuses {
		out.ByStatus[string(st)] = 0
	}
	for _, r := range rows {
		out.ByStatus[string(r.Status)] += r.Count
		out.Rows = append(out.Rows, funnelRowResponse{Status: string(r.Status), Channel: string(r.Channel),
			BankCode: r.BankCode, Count: r.Count})
	}
	return writeReport(c, q.format, out, func() table {
		t := table{Name: "applications", Columns: []string{"status", "channel", "bank_code", "count"}}
		for _, r := range out.Rows {
			t.Rows = append(t.Rows, []any{r.Status, r.Channel, r.BankCode, r.Count})
		}
		return t
	})
}

type hoursRowResponse struct {
	OrgID       int64   `json:"org_id"`
	Name        string  `json:"name"`
	Kind        string  `json:"kind"`
	Depth       int     `json:"depth"`
	Hours       float64 `json:"hours"`
	Minutes     int64   `json:"minutes"`
	Attendances int64   `json:"attendances"`
	Volunteers  int64   `json:"volunteers"`
}

func (s *Server) reportServiceHours(c echo.Context) error {
	q, err := s.readReportQuery(c, true)
	if err != nil {
		return err
	}
	rows, err := s.reports.ServiceHours(c.Request().Context(), q.actor, q.year, q.org)
	if err != nil {
		if errors.Is(err, reports.ErrReportUnavailable) {
			return newError(KindNotFound, "service hours are not available: check-in is not installed")
		}
		return err
	}
	out := struct {
		Year int                `json:"year"`
		Rows []hoursRowResponse `json:"rows"`
	}{Year: q.year, Rows: make([]hoursRowResponse, 0, len(rows))}
	for _, r := range rows {
		out.Rows = append(out.Rows, hoursRowResponse{OrgID: r.OrgID, Name: r.OrgName, Kind: string(r.OrgKind),
			Depth: r.Depth, Hours: float64(r.Minutes) / 60, Minutes: r.Minutes, Attendances: r.Attendances,
			Volunteers: r.Volunteers})
	}
	return writeReport(c, q.format, out, func() table {
		t := table{Name: fmt.Sprintf("service-hours-%d", q.year),
			Columns: []string{"org_id", "name", "kind", "hours", "minutes", "attendances", "volunteers"}}
		for _, r := range out.Rows {
			t.Rows = append(t.Rows, []any{r.OrgID, r.Name, r.Kind, r.Hours, r.Minutes, r.Attendances, r.Volunteers})
		}
		return t
	})
}

type clothingRowResponse struct {
	OrgID int64            `json:"org_id"`
	Name  string           `json:"name"`
	Kind  string           `json:"kind"`
	Sizes map[string]int64 `json:"sizes"`
	Total int64            `json:"total"`
}

func (s *Server) reportClothing(c echo.Context) error {
	q, err := s.readReportQuery(c, false)
	if err != nil {
		return err
	}
	orders, err := s.reports.ClothingOrders(c.Request().Context(), q.actor, q.org)
	if err != nil {
		return err
	}
	out := struct {
		Rows []clothingRowResponse `json:"rows"`
	}{Rows: make([]clothingRowResponse, 0, len(orders))}
	for _, o := range orders {
		r := clothingRowResponse{OrgID: o.OrgID, Name: o.OrgName, Kind: string(o.OrgKind), Sizes: map[string]int64{}, Total: o.Total}
		for _, sz := range issuance.ClothingSizes {
			r.Sizes[string(sz)] = o.BySize[sz]
		}
		out.Rows = append(out.Rows, r)
	}
	return writeReport(c, q.format, out, func() table {
		t := table{Name: "clothing", Columns: []string{"org_id", "name", "kind"}}
		for _, sz := range issuance.ClothingSizes {
			t.Columns = append(t.Columns, string(sz))
		}
		t.Columns = append(t.Columns, "total")
		for _, r := range out.Rows {
			row := []any{r.OrgID, r.Name, r.Kind}
			for _, sz := range issuance.ClothingSizes {
				row = append(row, r.Sizes[string(sz)])
			}
			t.Rows = append(t.Rows, append(row, r.Total))
		}
		return t
	})
}

type contactRowResponse struct {
	OrgID            int64  `json:"org_id"`
	Name             string `json:"name"`
	Kind             string `json:"kind"`
	RegionCode       string `json:"region_code,omitempty"`
	ResponsibleName  string `json:"responsible_name"`
	ResponsiblePhone string `json:"responsible_phone"`
	LiaisonName      string `json:"liaison_name"`
	LiaisonPhone     string `json:"liaison_phone"`
}

// contactPhone shows a contact phone in full to bank staff arranging
// on-site sessions, masked to everyone else (see revealContactPhones).
func contactPhone(a issuance.Actor, p pii.Secret) string {
	if revealContactPhones(a) {
		return p.Reveal()
	}
	return p.Masked()
}

func (s *Server) reportContacts(c echo.Context) error {
	q, err := s.readReportQuery(c, false)
	if err != nil {
		return err
	}
	orgs, err := s.reports.Contacts(c.Request().Context(), q.actor, q.org)
	if err != nil {
		return err
	}
	out := struct {
		PhonesMasked bool                 `json:"phones_masked"`
		Rows         []contactRowResponse `json:"rows"`
	}{PhonesMasked: !revealContactPhones(q.actor), Rows: make([]contactRowResponse, 0, len(orgs))}
	for _, o := range orgs {
		out.Rows = append(out.Rows, contactRowResponse{OrgID: o.ID, Name: o.Name, Kind: string(o.Kind),
			RegionCode: o.RegionCode, ResponsibleName: o.Responsible.Name,
			ResponsiblePhone: contactPhone(q.actor, o.Responsible.Phone), LiaisonName: o.Liaison.Name,
			LiaisonPhone: contactPhone(q.actor, o.Liaison.Phone)})
	}
	return writeReport(c, q.format, out, func() table {
		t := table{Name: "contacts", Columns: []string{"org_id", "name", "kind", "region_code",
			"responsible_name", "responsible_phone", "liaison_name", "liaison_phone"}}
		for _, r := range out.Rows {
			t.Rows = append(t.Rows, []any{r.OrgID, r.Name, r.Kind, r.RegionCode, r.ResponsibleName,
				r.ResponsiblePhone, r.LiaisonName, r.LiaisonPhone})
		}
		return t
	})
}

type checkinRowResponse struct {
	AttendanceID int64      `json:"attendance_id"`
	VolunteerID  int64      `json:"volunteer_id"`
	Name         string     `json:"name"` // masked
	InAt         time.Time  `json:"in_at"`
	OutAt        *time.Time `json:"out_at"`
	Minutes      int64      `json:"minutes"`
}

type activityCheckinsResponse struct {
	ActivityID  int64                `json:"activity_id"`
	Title       string               `json:"title"`
	Attendances int64                `json:"attendances"`
	Open        int64                `json:"open"`
	Minutes     int64                `json:"minutes"`
	Rows        []checkinRowResponse `json:"rows"`
}

// reportActivityCheckins is the console's live view of an activity's
// check-ins (polled); names are masked.
func (s *Server) reportActivityCheckins(c echo.Context) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	id, err := queryID(c, "activity")
	if err != nil {
		return err
	}
	if id == 0 {
		return invalidField("activity", "required")
	}
	actor, _ := actorFrom(c)
	r, err := s.reports.ActivityCheckins(c.Request().Context(), actor, id)
	if err != nil {
		if errors.Is(err, reports.ErrReportUnavailable) {
			return newError(KindNotFound, "check-ins are not available: check-in is not installed")
		}
		return err
	}
	out := activityCheckinsResponse{ActivityID: r.ActivityID, Title: r.Title, Attendances: r.Attendances,
		Open: r.Open, Minutes: r.Minutes, Rows: make([]checkinRowResponse, 0, len(r.Rows))}
	for _, x := range r.Rows {
		row := checkinRowResponse{AttendanceID: x.AttendanceID, VolunteerID: x.VolunteerID, Name: pii.MaskName(x.Name),
			InAt: x.InAt, Minutes: x.Minutes}
		if !x.OutAt.IsZero() {
			o := x.OutAt
			row.OutAt = &o
		}
		out.Rows = append(out.Rows, row)
	}
	return writeReport(c, format, out, func() table {
		t := table{Name: fmt.Sprintf("activity-%d-checkins", id),
			Columns: []string{"attendance_id", "volunteer_id", "name", "in_at", "out_at", "minutes"}}
		for _, x := range out.Rows {
			var o any
			if x.OutAt != nil {
				o = x.OutAt.Format(time.RFC3339)
			}
			t.Rows = append(t.Rows, []any{x.AttendanceID, x.VolunteerID, x.Name, x.InAt.Format(time.RFC3339), o, x.Minutes})
		}
		return t
	})
}
