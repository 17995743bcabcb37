package onsite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/roster"
	"github.com/volcard/volcard/pii"
)

// Purposes of sealed rejected-row values.
const (
	purposeRosterIDNumber = "roster.id_number"
	purposeRosterPhone    = "roster.phone"
)

// DefaultRosterChunk is how many roster rows are stored per transaction.
const DefaultRosterChunk = 500

const rosterAttempts = 3

// ReasonCode is a stable code for why a roster row was rejected.
type ReasonCode string

// Rejection reasons of roster rows.
const (
	ReasonMissingField    ReasonCode = "missing_field"
	ReasonBadChecksum     ReasonCode = "bad_checksum"
	ReasonBadIDNumber     ReasonCode = "bad_id_number"
	ReasonUnderAge        ReasonCode = "under_age"
	ReasonDuplicateInFile ReasonCode = "duplicate_in_file"
	ReasonLiveApplication ReasonCode = "live_application"
	ReasonBadPhone        ReasonCode = "bad_phone"
	ReasonBadSize         ReasonCode = "bad_size"
	ReasonBadLeague       ReasonCode = "bad_league_member"
	ReasonBadName         ReasonCode = "bad_name"
	ReasonBadEmbossName   ReasonCode = "bad_emboss_name"
	ReasonNameMismatch    ReasonCode = "name_mismatch"
	ReasonNotOffered      ReasonCode = "product_not_offered"
)

// RowReason is one reason a roster row was rejected. Message is safe to
// show and never contains the cell's value.
type RowReason struct {
	Code    ReasonCode `json:"code"`
	Field   string     `json:"field,omitempty"`
	Message string     `json:"message"`
}

// RowStatus says whether a roster row was accepted.
type RowStatus string

// Row statuses.
const (
	RowAccepted RowStatus = "accepted"
	RowRejected RowStatus = "rejected"
)

// RowResult is the outcome of one roster row.
type RowResult struct {
	Line          int
	Status        RowStatus
	Existing      bool // accepted by an earlier upload of this session; nothing changed
	Name          string
	IDNumber      pii.Secret
	Phone         pii.Secret
	VolunteerID   int64
	ApplicationID int64
	EntryID       int64
	NewVolunteer  bool
	Reasons       []RowReason
}

// RosterReport is the row report of an upload.
type RosterReport struct {
	Upload        RosterUpload
	Repeated      bool // this exact file had been uploaded to the session before
	Rows          int  // data rows (blank rows excluded)
	Accepted      int  // accepted rows, new or existing
	Stored        int  // accepted rows stored by this upload
	AlreadyStored int  // accepted rows stored earlier (same person, same session)
	Rejected      int
	BlankRows     int
	Results       []RowResult // every data row, in file order
}

// RosterInput is a roster file to upload.
type RosterInput struct {
	Data     []byte
	Filename string
	Format   roster.Format // "" detects CSV or XLSX from the content
	Limits   roster.Limits // zero: roster.DefaultLimits
	// ChunkSize is how many rows are stored per transaction (default
	// DefaultRosterChunk). A crash loses at most the chunk in flight;
	// uploading again finishes the job.
	ChunkSize int
	// OnChunk, when set, is called after each committed chunk with the
	// rows processed so far and the total.
	OnChunk func(done, total int)
	// Mode says what a new file does when the session has a roster
	// already: RosterAppend or RosterReplace. Empty is refused with a
	// *RosterModeError then (the same file again is always a repeat).
	Mode RosterMode
}

// RosterModeError refuses a second roster that does not say what it does
// (append or replace), or a replacement once the roster was approved. It
// is a conflict (ErrConflict); Error is safe to show.
type RosterModeError struct {
	Latest   RosterUpload // the session's latest upload
	Approved bool         // a replacement refused: applications were approved already
}

func (e *RosterModeError) Error() string {
	if e.Approved {
		return fmt.Sprintf("the session's roster has approved applications: a replacement would withdraw them; "+
			"send mode=append to add these rows, or cancel the rows to drop one by one (upload %d)", e.Latest.ID)
	}
	return fmt.Sprintf("this session already has a roster (upload %d, %d rows, %d accepted): send mode=append to add "+
		"this file's rows to it, or mode=replace to make this file the roster (earlier rows not in it are removed and "+
		"their applications cancelled)", e.Latest.ID, e.Latest.Rows, e.Latest.Accepted)
}

// Unwrap makes errors.Is(err, issuance.ErrConflict) true.
func (e *RosterModeError) Unwrap() error { return issuance.ErrConflict }

// rowWork is a roster row during an upload.
type rowWork struct {
	res    RowResult
	raw    roster.Row
	norm   string // normalised ID number, "" when invalid
	index  []byte
	vol    issuance.Volunteer // validated and sealed candidate when no reasons
	reject bool
}

func (w *rowWork) fail(code ReasonCode, field, msg string) {
	w.reject = true
	w.res.Reasons = append(w.res.Reasons, RowReason{Code: code, Field: field, Message: msg})
}

func normalizePhone(p string) string {
	p = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, p)
	p = strings.TrimPrefix(p, "+86")
	return p
}

func normalizeSize(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	switch s {
	case "2XL":
		return "XXL"
	case "3XL":
		return "XXXL"
	}
	return s
}

// checkRow validates one roster row and fills w.vol when it is acceptable
// so far (the database checks come later).
func (s *Service) checkRow(w *rowWork, sess Session, now time.Time) {
	r := w.raw
	name := r.Get(roster.FieldName)
	idRaw := r.Get(roster.FieldIDNumber)
	phone := normalizePhone(r.Get(roster.FieldPhone))
	w.res.Name, w.res.IDNumber, w.res.Phone = name, pii.IDNumber(idRaw), pii.Phone(r.Get(roster.FieldPhone))
	if name == "" {
		w.fail(ReasonMissingField, "name", "姓名 (name) is empty")
	} else if err := issuance.ValidName("name", name, 50); err != nil {
		w.fail(ReasonBadName, "name", "name must be at most 50 characters")
	}
	var rid issuance.ResidentID
	if idRaw == "" {
		w.fail(ReasonMissingField, "id_number", "身份证号 (ID number) is empty")
	} else {
		num := issuance.NormalizeIDNumber(idRaw)
		var err error
		rid, err = issuance.ParseResidentID(num, now)
		switch {
		case err == nil:
			w.norm = rid.Number
			if age := issuance.AgeAt(rid.BirthDate, now); age < s.svc.MinAge() {
				w.fail(ReasonUnderAge, "id_number", fmt.Sprintf("applicant is under %d", s.svc.MinAge()))
			}
		case len(num) == 18 && issuance.ResidentIDCheckChar(num[:17]) != 0 && issuance.ResidentIDCheckChar(num[:17]) != num[17]:
			w.fail(ReasonBadChecksum, "id_number", "ID number check character does not match (typo?)")
		default:
			msg := "not a valid resident ID number"
			var ve *issuance.ValidationError
			if errors.As(err, &ve) {
				msg = "not a valid resident ID number: " + ve.Reason
			}
			w.fail(ReasonBadIDNumber, "id_number", msg)
		}
	}
	if phone == "" {
		w.fail(ReasonMissingField, "phone", "手机号 (phone) is empty")
	} else if !issuance.ValidMobile(phone) {
		w.fail(ReasonBadPhone, "phone", "phone must be an 11-digit mainland mobile number")
	}
	league, ok := roster.ParseYesNo(r.Get(roster.FieldLeagueMember))
	if !ok {
		w.fail(ReasonBadLeague, "league_member", "是否团员 must be 是/否, Y/N, true/false or 1/0")
	}
	size := normalizeSize(r.Get(roster.FieldClothingSize))
	if size == "" {
		w.fail(ReasonMissingField, "clothing_size", "服装尺码 (clothing size) is empty")
	} else if !issuance.ClothingSize(size).Valid() {
		w.fail(ReasonBadSize, "clothing_size", "clothing size must be one of XS, S, M, L, XL, XXL, XXXL")
	}
	emboss := strings.ToUpper(strings.TrimSpace(r.Get(roster.FieldEmbossName)))
	if emboss != "" && !issuance.ValidEmbossName(emboss) {
		w.fail(ReasonBadEmbossName, "emboss_name", "拼音 must be 1–26 letters A–Z and single spaces")
	}
	if w.reject {
		return
	}
	v, err := s.svc.ValidateVolunteer(issuance.NewVolunteer{
		OrgID: sess.OrgID, Name: name, EmbossName: emboss, IDType: issuance.IDResident, IDNumber: w.norm,
		Phone: phone, LeagueMember: league, ClothingSize: issuance.ClothingSize(size), Source: issuance.ChannelOnSite,
	}, now)
	if err != nil {
		var ve *issuance.ValidationError
		if errors.As(err, &ve) && ve.Field == "emboss_name" {
			w.fail(ReasonBadEmbossName, "emboss_name", "no emboss name can be derived from the name; give 拼音")
		} else {
			w.fail(ReasonBadName, "name", "the row is not valid")
		}
		return
	}
	v.OrgPath = sess.OrgPath
	w.vol = v
}

// UploadRoster checks a roster file row by row for an open session and
// stores the valid rows: people not yet registered become volunteers
// (source on_site, the uploading staff member recorded as having verified
// them) and every accepted row gets a submitted application (channel
// on_site) and a place in the session's queue, in roster order. Rejected
// rows are kept (ID number and phone sealed) for the rejected-rows file.
//
// Rows are committed in chunks; each row is keyed by session and ID number
// (blind index), so uploading the same file again, or again after a crash,
// stores every row exactly once and changes nothing that was stored.
// File-level problems (limits, format, header) are roster errors and store
// nothing. Roles: province_admin, org_admin, bank_staff.
func (s *Service) UploadRoster(ctx context.Context, a issuance.Actor, sessionID int64, in RosterInput) (RosterReport, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return RosterReport{}, err
	}
	sess, st, err := s.sessionInScope(ctx, a, sessionID)
	if err != nil {
		return RosterReport{}, err
	}
	if !sess.Status.Open() {
		return RosterReport{}, &SessionTransitionError{From: sess.Status, To: sess.Status}
	}
	file, err := roster.Parse(in.Data, in.Format, in.Limits)
	if err != nil {
		return RosterReport{}, fmt.Errorf("roster: %w", err)
	}
	p, err := s.svc.Product(ctx, sess.ProductCode)
	if err != nil {
		return RosterReport{}, fmt.Errorf("roster: product: %w", err)
	}
	now := s.svc.Now()
	sum := sha256.Sum256(in.Data)
	filename := strings.TrimSpace(in.Filename)
	if len(filename) > 200 {
		filename = filename[:200]
	}
	up := RosterUpload{SessionID: sessionID, SHA256: hex.EncodeToString(sum[:]), Filename: filename,
		Format: string(file.Format), Encoding: string(file.Encoding), Rows: len(file.Rows),
		ActorTokenID: a.TokenID, ActorRole: a.Role, CreatedAt: now}

	work := make([]*rowWork, len(file.Rows))
	firstLine := map[string]int{}
	for i, r := range file.Rows {
		w := &rowWork{raw: r, res: RowResult{Line: r.Line}}
		s.checkRow(w, sess, now)
		if w.norm != "" {
			if first, dup := firstLine[w.norm]; dup {
				w.fail(ReasonDuplicateInFile, "id_number", "the same ID number is on line "+strconv.Itoa(first))
			} else {
				firstLine[w.norm] = r.Line
			}
			w.index = s.svc.IDIndex(w.norm)
		}
		if !w.reject {
			if err := s.svc.SealVolunteer(&w.vol); err != nil {
				return RosterReport{}, err
			}
		}
		work[i] = w
	}

	switch in.Mode {
	case "", RosterAppend, RosterReplace:
	default:
		return RosterReport{}, issuance.Invalid("mode", "must be append or replace")
	}
	latest, err := st.LatestRosterUpload(ctx, sessionID)
	switch {
	case err == nil:
		if latest.SHA256 != up.SHA256 {
			if in.Mode == "" {
				return RosterReport{}, &RosterModeError{Latest: latest}
			}
			up.Mode = in.Mode
		}
	case !isNotFound(err):
		return RosterReport{}, fmt.Errorf("roster: latest upload: %w", err)
	}
	if up.Mode != RosterReplace {
		return s.storeRoster(ctx, st, a, sess, p, up, work, file.BlankRows, in, nil, now)
	}
	// A replacement runs in one transaction that first locks the session
	// and its applications: the check that none is approved and the
	// removal see the same rows, and an approval at the same time either
	// waits (and finds the application cancelled) or comes first (and the
	// replacement fails, nothing stored).
	var rep RosterReport
	err = st.InTx(ctx, func(ctx context.Context) error {
		if err := st.LockOnsiteSession(ctx, sessionID); err != nil {
			return fmt.Errorf("roster: lock session: %w", err)
		}
		q, err := st.OnsiteQueue(ctx, sessionID)
		if err != nil {
			return fmt.Errorf("roster: queue: %w", err)
		}
		for _, it := range q {
			if it.Status != issuance.StatusSubmitted && it.Status != issuance.StatusCancelled {
				return &RosterModeError{Latest: latest, Approved: true}
			}
		}
		rep, err = s.storeRoster(ctx, st, a, sess, p, up, work, file.BlankRows, in, q, now)
		return err
	})
	if err != nil {
		return RosterReport{}, err
	}
	return rep, nil
}

// storeRoster stores an upload's rows in chunks and, for a replacement,
// removes the replaced entries not in it (replaced: the session's queue,
// read under UploadRoster's lock).
func (s *Service) storeRoster(ctx context.Context, st Store, a issuance.Actor, sess Session, p issuance.Product,
	up RosterUpload, work []*rowWork, blankRows int, in RosterInput, replaced []QueueItem, now time.Time) (RosterReport, error) {
	sessionID := sess.ID
	existing, err := st.PutRosterUpload(ctx, &up)
	if err != nil {
		return RosterReport{}, fmt.Errorf("roster: record upload: %w", err)
	}
	rep := RosterReport{Upload: up, Repeated: existing && !up.FinishedAt.IsZero(), Rows: len(work), BlankRows: blankRows}

	chunk := in.ChunkSize
	if chunk <= 0 {
		chunk = DefaultRosterChunk
	}
	for lo := 0; lo < len(work); lo += chunk {
		hi := min(lo+chunk, len(work))
		for attempt := 1; ; attempt++ {
			results, err := s.storeRosterChunk(ctx, st, a, sess, p, up, work[lo:hi], now)
			if err == nil {
				for i, r := range results {
					work[lo+i].res = r
				}
				break
			}
			if errors.Is(err, issuance.ErrConflict) && attempt < rosterAttempts {
				continue // a concurrent upload or registration; the rows re-check
			}
			return RosterReport{}, fmt.Errorf("roster: rows %d–%d: %w", work[lo].raw.Line, work[hi-1].raw.Line, err)
		}
		if in.OnChunk != nil {
			in.OnChunk(hi, len(work))
		}
	}

	rep.Results = make([]RowResult, len(work))
	for i, w := range work {
		rep.Results[i] = w.res
		switch {
		case w.res.Status == RowRejected:
			rep.Rejected++
		case w.res.Existing:
			rep.Accepted++
			rep.AlreadyStored++
		default:
			rep.Accepted++
			rep.Stored++
		}
	}
	if up.Mode == RosterReplace && !rep.Repeated {
		keep := map[string]bool{}
		for _, w := range work {
			if w.res.Status != RowRejected && w.index != nil {
				keep[string(w.index)] = true
			}
		}
		removed, err := s.removeEntries(ctx, st, a, sessionID, up.ID, replaced, keep)
		if err != nil {
			return RosterReport{}, fmt.Errorf("roster: replace: %w", err)
		}
		up.Removed = removed
	}
	up.Accepted, up.Rejected, up.FinishedAt = rep.Accepted, rep.Rejected, s.svc.Now()
	if err := st.FinishRosterUpload(ctx, &up); err != nil {
		return RosterReport{}, fmt.Errorf("roster: finish upload: %w", err)
	}
	rep.Upload = up
	return rep, nil
}

// storeRosterChunk stores one chunk in one transaction and returns the
// chunk's results; on error nothing of the chunk is stored.
func (s *Service) storeRosterChunk(ctx context.Context, st Store, a issuance.Actor, sess Session, p issuance.Product,
	up RosterUpload, rows []*rowWork, now time.Time) ([]RowResult, error) {
	res := make([]RowResult, len(rows))
	reject := make([]bool, len(rows))
	for i, w := range rows {
		res[i], reject[i] = w.res, w.reject
		res[i].Reasons = append([]RowReason(nil), w.res.Reasons...)
	}
	fail := func(i int, code ReasonCode, field, msg string) {
		reject[i] = true
		res[i].Reasons = append(res[i].Reasons, RowReason{Code: code, Field: field, Message: msg})
	}
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		var idx [][]byte
		for i, w := range rows {
			if !reject[i] {
				idx = append(idx, w.index)
			}
		}
		vols, err := st.VolunteersByIndex(ctx, idx)
		if err != nil {
			return err
		}
		// Only registered people can have an entry: look those up.
		known := make([][]byte, 0, len(vols))
		for _, ix := range idx {
			if _, ok := vols[string(ix)]; ok {
				known = append(known, ix)
			}
		}
		entries, err := st.OnsiteEntriesByIndex(ctx, sess.ID, known)
		if err != nil {
			return err
		}
		var volIDs []int64
		for i, w := range rows {
			if reject[i] {
				continue
			}
			if e, ok := entries[string(w.index)]; ok {
				res[i].Status, res[i].Existing = RowAccepted, true
				res[i].VolunteerID, res[i].ApplicationID, res[i].EntryID = e.VolunteerID, e.ApplicationID, e.ID
				res[i].NewVolunteer = e.NewVolunteer
				continue
			}
			if v, ok := vols[string(w.index)]; ok {
				if strings.TrimSpace(v.Name) != w.vol.Name {
					fail(i, ReasonNameMismatch, "name", "the name differs from the registered volunteer with this ID number")
					continue
				}
				if p.OrgPath != "" && !strings.HasPrefix(v.OrgPath, p.OrgPath) {
					fail(i, ReasonNotOffered, "", "the registered volunteer's organisation is outside this product's area")
					continue
				}
				volIDs = append(volIDs, v.ID)
			}
		}
		live, err := st.LiveApplicationsOf(ctx, volIDs, p.Code)
		if err != nil {
			return err
		}
		var newVols []*issuance.Volunteer
		var newIdx []int
		volOf := make([]issuance.Volunteer, len(rows))
		for i, w := range rows {
			if reject[i] || res[i].Existing {
				continue
			}
			if v, ok := vols[string(w.index)]; ok {
				if _, busy := live[v.ID]; busy {
					fail(i, ReasonLiveApplication, "", "already holds a live card or application for this product")
					continue
				}
				volOf[i] = v
				continue
			}
			v := w.vol
			v.CreatedAt = now
			newVols = append(newVols, &v)
			newIdx = append(newIdx, i)
		}
		if err := st.CreateVolunteers(ctx, newVols); err != nil {
			return err
		}
		for k, v := range newVols {
			volOf[newIdx[k]] = *v
			res[newIdx[k]].NewVolunteer = true
		}
		var applicants []issuance.Volunteer
		var appIdx []int
		for i := range rows {
			if reject[i] || res[i].Existing {
				continue
			}
			applicants = append(applicants, volOf[i])
			appIdx = append(appIdx, i)
		}
		apps, err := s.svc.BulkApply(ctx, a, p, issuance.ChannelOnSite, applicants,
			"on-site session "+strconv.FormatInt(sess.ID, 10), now)
		if err != nil {
			return err
		}
		entries2 := make([]*Entry, len(apps))
		for k, app := range apps {
			i := appIdx[k]
			entries2[k] = &Entry{SessionID: sess.ID, UploadID: up.ID, Line: rows[i].raw.Line,
				IDNumberIndex: rows[i].index, VolunteerID: app.VolunteerID, ApplicationID: app.ID,
				Name: volOf[i].Name, NewVolunteer: res[i].NewVolunteer, VerifiedBy: a.TokenID, VerifiedRole: a.Role,
				Personalize: PersonalizePending, CreatedAt: now, UpdatedAt: now}
		}
		if err := st.CreateOnsiteEntries(ctx, entries2); err != nil {
			return err
		}
		for k, e := range entries2 {
			i := appIdx[k]
			res[i].Status, res[i].VolunteerID, res[i].ApplicationID, res[i].EntryID = RowAccepted, e.VolunteerID, e.ApplicationID, e.ID
		}
		var rejects []*RosterReject
		for i, w := range rows {
			if !reject[i] {
				continue
			}
			res[i].Status = RowRejected
			rj, err := s.sealReject(sess.ID, up.ID, w.raw, res[i].Reasons)
			if err != nil {
				return err
			}
			rejects = append(rejects, rj)
		}
		return st.PutRosterRejects(ctx, rejects)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) sealReject(sessionID, uploadID int64, r roster.Row, reasons []RowReason) (*RosterReject, error) {
	rj := &RosterReject{UploadID: uploadID, SessionID: sessionID, Line: r.Line,
		Name: r.Get(roster.FieldName), League: r.Get(roster.FieldLeagueMember), Size: r.Get(roster.FieldClothingSize),
		Emboss: r.Get(roster.FieldEmbossName), Reasons: reasons}
	var err error
	if rj.IDNumberSealed, err = s.svc.Seal(purposeRosterIDNumber, r.Get(roster.FieldIDNumber)); err != nil {
		return nil, fmt.Errorf("seal rejected row: %w", err)
	}
	if rj.PhoneSealed, err = s.svc.Seal(purposeRosterPhone, r.Get(roster.FieldPhone)); err != nil {
		return nil, fmt.Errorf("seal rejected row: %w", err)
	}
	return rj, nil
}

// RejectedRows returns the rejected rows of the session's latest upload
// (ID numbers and phones decrypted), with that upload. Roles:
// province_admin, org_admin, bank_staff.
func (s *Service) RejectedRows(ctx context.Context, a issuance.Actor, sessionID int64) (RosterUpload, []RosterReject, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return RosterUpload{}, nil, err
	}
	_, st, err := s.sessionInScope(ctx, a, sessionID)
	if err != nil {
		return RosterUpload{}, nil, err
	}
	up, err := st.LatestRosterUpload(ctx, sessionID)
	if err != nil {
		if isNotFound(err) {
			return RosterUpload{}, nil, nil
		}
		return RosterUpload{}, nil, fmt.Errorf("rejected rows of session %d: %w", sessionID, err)
	}
	rs, err := st.ListRosterRejects(ctx, up.ID)
	if err != nil {
		return RosterUpload{}, nil, fmt.Errorf("rejected rows of session %d: %w", sessionID, err)
	}
	for i := range rs {
		id, err := s.svc.Open(purposeRosterIDNumber, rs[i].IDNumberSealed)
		if err != nil {
			return RosterUpload{}, nil, fmt.Errorf("rejected row %d: %w", rs[i].Line, err)
		}
		ph, err := s.svc.Open(purposeRosterPhone, rs[i].PhoneSealed)
		if err != nil {
			return RosterUpload{}, nil, fmt.Errorf("rejected row %d: %w", rs[i].Line, err)
		}
		rs[i].IDNumber, rs[i].Phone = pii.IDNumber(id), pii.Phone(ph)
	}
	return up, rs, nil
}

// removeEntries removes, in one transaction, the entries of items whose
// person is not in keep (blind indexes), cancelling their applications
// (still submitted: UploadRoster checked) with the reason naming the
// replacing upload; it returns how many.
func (s *Service) removeEntries(ctx context.Context, st Store, a issuance.Actor, sessionID, uploadID int64,
	items []QueueItem, keep map[string]bool) (int, error) {
	var ids []int64
	err := st.InTx(ctx, func(ctx context.Context) error {
		ids = ids[:0]
		for _, it := range items {
			if keep[string(it.Entry.IDNumberIndex)] {
				continue
			}
			if it.Status == issuance.StatusSubmitted {
				if _, err := s.svc.Transition(ctx, a, it.Entry.ApplicationID, issuance.StatusCancelled,
					fmt.Sprintf("removed from the on-site roster by upload %d (replace)", uploadID)); err != nil {
					return err
				}
			}
			ids = append(ids, it.Entry.ID)
		}
		return st.DeleteOnsiteEntries(ctx, sessionID, ids)
	})
	return len(ids), err
}
