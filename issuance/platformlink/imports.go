package platformlink

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/volcard/volcard/issuance"
)

// Import kinds.
const (
	KindVolunteers = "volunteers"
	KindHours      = "hours"
)

// MaxBatchRows is the most rows one import batch may carry.
const MaxBatchRows = 10000

// ImportRow is one volunteer of the platform's export, as read from its
// file. Volunteer.VolunteerNumber (the platform number) is required: the
// import is idempotent by it.
type ImportRow struct {
	Line      int // line (JSONL) or record (CSV) number in the file, for the report
	Volunteer issuance.NewVolunteer
}

// HoursRow is one volunteer's service hours on the platform: the total as
// of the export, which replaces the last imported total.
type HoursRow struct {
	Line    int
	Number  string // platform number
	Minutes int64
}

// Reject is a row refused by an import, with the reason. It never carries
// the row's data.
type Reject struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// BatchKey names one batch of one import: ImportID (chosen by the client,
// the same on a re-run of the same file) and Seq (0, 1, 2, … in the file's
// order). A batch once committed is never applied again.
type BatchKey struct {
	ImportID string
	Seq      int
	Kind     string
}

// BatchResult is what a batch did.
type BatchResult struct {
	BatchKey
	Rows    int
	Created int
	Updated int
	Rejects []Reject
	// Replayed: the batch had been committed before; this is its stored
	// result and nothing was applied now.
	Replayed bool
}

// Existing is a volunteer already in volcard that holds one of a batch's
// platform numbers or ID numbers.
type Existing struct {
	ID      int64
	Number  string
	Index   []byte
	Minutes int64
}

// Plan is what to write for one batch, decided by the Service from the
// existing volunteers.
type Plan struct {
	Insert  []*issuance.Volunteer
	Update  []issuance.Volunteer // by ID; org and league membership are not changed
	Hours   []Existing           // ID and Minutes to set
	Rejects []Reject
}

// Imports is the storage of bulk imports.
type Imports interface {
	// ImportBatch runs one batch in one transaction. When key was
	// committed before it returns the stored result (Replayed) and writes
	// nothing. Otherwise it finds the volunteers holding any of numbers
	// or indexes, calls plan with them, writes the plan (new volunteers
	// counted in the targets counters as registrations of their
	// CreatedAt; updates by ID; a number set on a volunteer who had none
	// closes that volunteer's open registration request as matched) and
	// stores the result with pre's and the plan's rejects.
	ImportBatch(ctx context.Context, key BatchKey, rows int, pre []Reject, numbers []string, indexes [][]byte,
		plan func([]Existing) Plan) (BatchResult, error)
	// ImportResults returns the committed batches of an import, by Seq.
	ImportResults(ctx context.Context, importID string) ([]BatchResult, error)
}

// ValidImportID reports whether id can name an import: 1–64 characters
// A–Z, a–z, 0–9, '-' and '_'.
func ValidImportID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func (s *Service) checkBatch(a issuance.Actor, key BatchKey, n int) error {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RolePlatform, issuance.RoleSystem); err != nil {
		return err
	}
	if !ValidImportID(key.ImportID) {
		return issuance.Invalid("import_id", "must be 1–64 letters, digits, '-' or '_'")
	}
	if key.Seq < 0 {
		return issuance.Invalid("seq", "must be 0 or more")
	}
	if n == 0 || n > MaxBatchRows {
		return issuance.Invalid("rows", "must be 1–"+strconv.Itoa(MaxBatchRows)+" rows")
	}
	return nil
}

// prepared is a validated and sealed row.
type prepared struct {
	line int
	v    issuance.Volunteer
}

// ImportVolunteers applies one batch of the platform's volunteers: each
// row validated as a registration is (ID number checksum, phone, name,
// organisation), sealed and blind-indexed; a platform number already in
// volcard updates that volunteer (name, emboss name, phone, party
// membership, clothing size) when it has the same ID number; an ID number
// registered in volcard without a platform number gets this one (a match,
// the person was registered at a branch or on site); anything else is a
// new volunteer of source platform. Rows that fail, or clash with another
// volunteer's platform or ID number, are rejected with a reason and
// nothing of them is written. Roles: province_admin, platform, system.
func (s *Service) ImportVolunteers(ctx context.Context, a issuance.Actor, key BatchKey, rows []ImportRow) (BatchResult, error) {
	key.Kind = KindVolunteers
	if err := s.checkBatch(a, key, len(rows)); err != nil {
		return BatchResult{}, err
	}
	at := s.svc.Now().UTC()
	preps := make([]prepared, len(rows))
	errs := make([]error, len(rows))
	// Sealing is the CPU-heavy part: spread it over the processors.
	workers := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				in := rows[i].Volunteer
				in.Source = issuance.ChannelPlatform
				preps[i].line = rows[i].Line
				if !issuance.ValidPlatformNumber(in.VolunteerNumber) {
					errs[i] = issuance.Invalid("volunteer_number", "required: 1–32 letters, digits or '-'")
					continue
				}
				preps[i].v, errs[i] = s.svc.PrepareVolunteer(in, at)
			}
		}()
	}
	wg.Wait()
	var pre []Reject
	var ok []prepared
	byNumber := map[string]int{}
	byIndex := map[string]int{}
	for i, p := range preps {
		if errs[i] != nil {
			pre = append(pre, rejectOf(p.line, errs[i]))
			continue
		}
		if path, err := s.orgPath(ctx, p.v.OrgID); err != nil {
			return BatchResult{}, err
		} else if path == "" {
			pre = append(pre, Reject{Line: p.line, Field: "org_id", Reason: "no such organisation"})
			continue
		} else {
			preps[i].v.OrgPath = path
		}
		if l, dup := byNumber[p.v.VolunteerNumber]; dup {
			pre = append(pre, Reject{Line: p.line, Field: "volunteer_number", Reason: "repeats line " + strconv.Itoa(l)})
			continue
		}
		if l, dup := byIndex[string(p.v.IDNumberIndex)]; dup {
			pre = append(pre, Reject{Line: p.line, Field: "id_number", Reason: "repeats line " + strconv.Itoa(l)})
			continue
		}
		byNumber[p.v.VolunteerNumber], byIndex[string(p.v.IDNumberIndex)] = p.line, p.line
		ok = append(ok, preps[i])
	}
	numbers := make([]string, len(ok))
	indexes := make([][]byte, len(ok))
	for i, p := range ok {
		numbers[i], indexes[i] = p.v.VolunteerNumber, p.v.IDNumberIndex
	}
	res, err := s.st.ImportBatch(ctx, key, len(rows), pre, numbers, indexes, func(existing []Existing) Plan {
		return planVolunteers(ok, existing)
	})
	if err != nil {
		return BatchResult{}, fmt.Errorf("import batch %d: %w", key.Seq, err)
	}
	return res, nil
}

// planVolunteers decides, row by row, between update, match, insert and
// reject (ImportVolunteers).
func planVolunteers(rows []prepared, existing []Existing) Plan {
	num := make(map[string]Existing, len(existing))
	idx := make(map[string]Existing, len(existing))
	for _, e := range existing {
		if e.Number != "" {
			num[e.Number] = e
		}
		idx[string(e.Index)] = e
	}
	var p Plan
	for i := range rows {
		r := &rows[i]
		v := r.v
		if e, ok := num[v.VolunteerNumber]; ok {
			if !bytes.Equal(e.Index, v.IDNumberIndex) {
				p.Rejects = append(p.Rejects, Reject{Line: r.line, Field: "volunteer_number",
					Reason: "held in volcard by a volunteer with another ID number"})
				continue
			}
			v.ID = e.ID
			p.Update = append(p.Update, v)
			continue
		}
		if e, ok := idx[string(v.IDNumberIndex)]; ok {
			if e.Number != "" {
				p.Rejects = append(p.Rejects, Reject{Line: r.line, Field: "id_number",
					Reason: "registered in volcard under another platform number"})
				continue
			}
			v.ID = e.ID
			p.Update = append(p.Update, v)
			continue
		}
		p.Insert = append(p.Insert, &rows[i].v)
	}
	return p
}

// ImportHours applies one batch of service hours: each row's total
// replaces the platform hours last imported for the volunteer holding that
// platform number; an unknown number is rejected. Roles: province_admin,
// platform, system.
func (s *Service) ImportHours(ctx context.Context, a issuance.Actor, key BatchKey, rows []HoursRow) (BatchResult, error) {
	key.Kind = KindHours
	if err := s.checkBatch(a, key, len(rows)); err != nil {
		return BatchResult{}, err
	}
	var pre []Reject
	var ok []HoursRow
	seen := map[string]int{}
	for _, r := range rows {
		switch {
		case !issuance.ValidPlatformNumber(r.Number):
			pre = append(pre, Reject{Line: r.Line, Field: "volunteer_number", Reason: "required: 1–32 letters, digits or '-'"})
		case r.Minutes < 0 || r.Minutes > 200000*60:
			pre = append(pre, Reject{Line: r.Line, Field: "hours", Reason: "must be 0–200000"})
		default:
			if l, dup := seen[r.Number]; dup {
				pre = append(pre, Reject{Line: r.Line, Field: "volunteer_number", Reason: "repeats line " + strconv.Itoa(l)})
				continue
			}
			seen[r.Number] = r.Line
			ok = append(ok, r)
		}
	}
	numbers := make([]string, len(ok))
	for i, r := range ok {
		numbers[i] = r.Number
	}
	res, err := s.st.ImportBatch(ctx, key, len(rows), pre, numbers, nil, func(existing []Existing) Plan {
		num := make(map[string]Existing, len(existing))
		for _, e := range existing {
			num[e.Number] = e
		}
		var p Plan
		for _, r := range ok {
			e, found := num[r.Number]
			if !found {
				p.Rejects = append(p.Rejects, Reject{Line: r.Line, Field: "volunteer_number", Reason: "no volunteer with this platform number"})
				continue
			}
			e.Minutes = r.Minutes
			p.Hours = append(p.Hours, e)
		}
		return p
	})
	if err != nil {
		return BatchResult{}, fmt.Errorf("import hours batch %d: %w", key.Seq, err)
	}
	return res, nil
}

// Results returns the committed batches of an import (a re-run skips
// them; the report of rejected rows is written from them). Roles:
// province_admin, platform, system.
func (s *Service) Results(ctx context.Context, a issuance.Actor, importID string) ([]BatchResult, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RolePlatform, issuance.RoleSystem); err != nil {
		return nil, err
	}
	if !ValidImportID(importID) {
		return nil, issuance.Invalid("import_id", "must be 1–64 letters, digits, '-' or '_'")
	}
	return s.st.ImportResults(ctx, importID)
}

// orgPath returns the path of an organisation ("" when there is none),
// remembered for the Service's life (organisations are never deleted).
func (s *Service) orgPath(ctx context.Context, id int64) (string, error) {
	if p, ok := s.orgs.Load(id); ok {
		return p.(string), nil
	}
	o, err := s.svc.GetOrg(ctx, issuance.SystemActor(), id)
	if err != nil {
		if isNotFound(err) {
			return "", nil
		}
		return "", err
	}
	s.orgs.Store(id, o.Path)
	return o.Path, nil
}

func rejectOf(line int, err error) Reject {
	var ve *issuance.ValidationError
	if asValidation(err, &ve) {
		return Reject{Line: line, Field: ve.Field, Reason: ve.Reason}
	}
	return Reject{Line: line, Reason: "invalid row"}
}
