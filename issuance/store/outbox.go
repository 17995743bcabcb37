package store

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
)

var (
	_ issuance.BankOutbox     = (*Store)(nil)
	_ outbox.Rows             = (*Store)(nil)
	_ issuance.IssuedCardRepo = (*Store)(nil)
	_ checkin.CardDirectory   = (*Store)(nil)
)

// bankRequestRow is a row of bank_requests.
type bankRequestRow struct {
	ID                int64 `gorm:"primaryKey"`
	ApplicationID     int64
	ApplicationNumber string
	ParentID          *int64
	Kind              string
	Payload           string
	State             string
	Attempts          int
	Repeats           int
	PermanentErrors   int
	NextAttemptMS     int64  `gorm:"column:next_attempt_ms"`
	TraceMTI          string `gorm:"column:trace_mti"`
	STAN              string `gorm:"column:stan"`
	TransmittedUnix   int64
	RRN               string `gorm:"column:rrn"`
	MaybeSent         bool
	ResultCode        string
	LastError         string
	LeaseOwner        string
	LeaseUntilMS      int64 `gorm:"column:lease_until_ms"`
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (bankRequestRow) TableName() string { return "bank_requests" }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func bankRequestToRow(r *outbox.Request) bankRequestRow {
	row := bankRequestRow{
		ID: r.ID, ApplicationID: r.ApplicationID, ApplicationNumber: r.ApplicationNumber, Kind: string(r.Kind),
		Payload: string(r.Payload), State: string(r.State), Attempts: r.Attempts, Repeats: r.Repeats,
		PermanentErrors: r.PermanentErrors, NextAttemptMS: ms(r.NextAttemptAt), TraceMTI: r.Trace.MTI, STAN: r.Trace.STAN, RRN: r.Trace.RRN,
		MaybeSent: r.MaybeSent, ResultCode: r.ResultCode, LastError: r.LastError, LeaseOwner: r.LeaseOwner,
		LeaseUntilMS: ms(r.LeaseUntil), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if !r.Trace.TransmittedAt.IsZero() {
		row.TransmittedUnix = r.Trace.TransmittedAt.Unix()
	}
	if r.ParentID != 0 {
		p := r.ParentID
		row.ParentID = &p
	}
	if row.Payload == "" {
		row.Payload = "{}"
	}
	return row
}

func (r bankRequestRow) request() outbox.Request {
	out := outbox.Request{
		ID: r.ID, ApplicationID: r.ApplicationID, ApplicationNumber: r.ApplicationNumber,
		Kind: outbox.Kind(r.Kind), Payload: []byte(r.Payload), State: outbox.State(r.State),
		Attempts: r.Attempts, Repeats: r.Repeats, PermanentErrors: r.PermanentErrors, NextAttemptAt: fromMS(r.NextAttemptMS),
		Trace:     bankgw.Trace{MTI: r.TraceMTI, STAN: r.STAN, RRN: r.RRN},
		MaybeSent: r.MaybeSent, ResultCode: r.ResultCode, LastError: r.LastError, LeaseOwner: r.LeaseOwner,
		LeaseUntil: fromMS(r.LeaseUntilMS), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.TransmittedUnix != 0 {
		out.Trace.TransmittedAt = time.Unix(r.TransmittedUnix, 0).UTC()
	}
	if r.ParentID != nil {
		out.ParentID = *r.ParentID
	}
	return out
}

// EnqueueBankRequest implements issuance.BankOutbox: a row pending and due
// at r.At.
func (s *Store) EnqueueBankRequest(ctx context.Context, r issuance.NewBankRequest) error {
	return s.InsertBankRequest(ctx, &outbox.Request{ApplicationID: r.ApplicationID, ApplicationNumber: r.ApplicationNumber,
		Kind: outbox.Kind(r.Kind), Payload: r.Payload, State: outbox.StatePending, NextAttemptAt: r.At,
		CreatedAt: r.At, UpdatedAt: r.At})
}

// InsertBankRequest implements outbox.RowStore.
func (s *Store) InsertBankRequest(ctx context.Context, r *outbox.Request) error {
	row := bankRequestToRow(r)
	row.ID = 0
	if err := s.DB(ctx).Create(&row).Error; err != nil {
		return mapErr(err)
	}
	r.ID = row.ID
	return nil
}

// LockApprovedApplications implements issuance.BankOutbox: SELECT … FOR
// UPDATE SKIP LOCKED on PostgreSQL; on SQLite the write transaction
// (BEGIN IMMEDIATE) already excludes other writers.
func (s *Store) LockApprovedApplications(ctx context.Context, limit int) ([]int64, error) {
	q := s.DB(ctx).Model(&applicationRow{}).Where("status = ?", string(issuance.StatusApproved)).Order("id").Limit(limit)
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var ids []int64
	if err := q.Pluck("id", &ids).Error; err != nil {
		return nil, mapErr(err)
	}
	return ids, nil
}

// ClaimBankRequests implements outbox.Leases with one UPDATE …
// RETURNING: on PostgreSQL its subquery locks with FOR UPDATE SKIP LOCKED so
// concurrent claimers take disjoint rows, and takes over the in-flight rows
// of a cluster member that is gone (see MemberPrefix); on SQLite the single
// statement runs under the database's write lock.
func (s *Store) ClaimBankRequests(ctx context.Context, c outbox.Claim) ([]outbox.Request, error) {
	if c.Owner == "" || c.Limit <= 0 || c.Lease <= 0 {
		return nil, fmt.Errorf("claim bank requests: owner, limit and lease required")
	}
	now := c.Now.UnixMilli()
	lock, gone := "", ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
		// A lease of a cluster member (Store.Join) ends with the member's
		// membership connection: a process killed mid-request leaves no
		// session named after it, and its rows are claimable at once.
		gone = `
			   OR (state = 'in_flight' AND lease_owner LIKE '` + MemberPrefix + `%' AND NOT EXISTS (
			       SELECT 1 FROM pg_stat_activity a WHERE a.application_name = split_part(b.lease_owner, '/', 1)))`
	}
	args := []any{c.Owner, now + c.Lease.Milliseconds(), c.Now.UTC(), now, now}
	banks := ""
	if len(c.Banks) > 0 {
		// The row's bank is its application's (copied from the product):
		// one link's worker claims only its bank's rows.
		banks = `
			  AND EXISTS (SELECT 1 FROM applications a WHERE a.id = b.application_id AND a.bank_code IN ?)`
		args = append(args, c.Banks)
	}
	args = append(args, c.Limit)
	sql := `UPDATE bank_requests
		SET state = 'in_flight', lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (
			SELECT id FROM bank_requests b
			WHERE ((state IN ('pending', 'sent') AND next_attempt_ms <= ?)
			   OR (state = 'in_flight' AND lease_until_ms < ?)` + gone + `)` + banks + `
			ORDER BY next_attempt_ms, id
			LIMIT ?` + lock + `)
		RETURNING *`
	var rows []bankRequestRow
	err := s.DB(ctx).Raw(sql, args...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("claim bank requests: %w", mapErr(err))
	}
	out := make([]outbox.Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

// SaveBankRequest implements outbox.RowStore.
func (s *Store) SaveBankRequest(ctx context.Context, r *outbox.Request, owner string) error {
	row := bankRequestToRow(r)
	if r.State != outbox.StateInFlight {
		row.LeaseOwner, row.LeaseUntilMS = "", 0
	}
	q := s.DB(ctx).Model(&bankRequestRow{}).Where("id = ? AND state NOT IN ('done', 'failed', 'cancelled')", r.ID)
	if owner != "" {
		q = q.Where("state = 'in_flight' AND lease_owner = ?", owner)
	}
	res := q.Updates(map[string]any{
		"state": row.State, "attempts": row.Attempts, "repeats": row.Repeats, "permanent_errors": row.PermanentErrors, "next_attempt_ms": row.NextAttemptMS,
		"trace_mti": row.TraceMTI, "stan": row.STAN, "transmitted_unix": row.TransmittedUnix, "rrn": row.RRN,
		"maybe_sent": row.MaybeSent, "result_code": row.ResultCode, "last_error": row.LastError,
		"lease_owner": row.LeaseOwner, "lease_until_ms": row.LeaseUntilMS, "updated_at": time.Now().UTC(),
	})
	if res.Error != nil {
		return fmt.Errorf("save bank request %d: %w", r.ID, mapErr(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("save bank request %d: %w", r.ID, outbox.ErrLeaseLost)
	}
	return nil
}

// GetBankRequest implements outbox.RowStore.
func (s *Store) GetBankRequest(ctx context.Context, id int64) (outbox.Request, error) {
	var row bankRequestRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return outbox.Request{}, mapErr(err)
	}
	return row.request(), nil
}

// OpenBankRequest implements outbox.Finder.
func (s *Store) OpenBankRequest(ctx context.Context, number string, kind outbox.Kind) (outbox.Request, error) {
	var row bankRequestRow
	err := s.DB(ctx).Where("application_number = ? AND kind = ? AND state NOT IN ('done', 'failed', 'cancelled')", number, string(kind)).
		Order("id DESC").Take(&row).Error
	if err != nil {
		return outbox.Request{}, mapErr(err)
	}
	return row.request(), nil
}

// OpenBankRequestByRRN implements outbox.Finder.
func (s *Store) OpenBankRequestByRRN(ctx context.Context, rrn string, kind outbox.Kind) (outbox.Request, error) {
	var row bankRequestRow
	err := s.DB(ctx).Where("rrn = ? AND kind = ? AND state NOT IN ('done', 'failed', 'cancelled')", rrn, string(kind)).
		Order("id DESC").Take(&row).Error
	if err != nil {
		return outbox.Request{}, mapErr(err)
	}
	return row.request(), nil
}

// ReleaseBankRequests implements outbox.Leases.
func (s *Store) ReleaseBankRequests(ctx context.Context, owner string) (int64, error) {
	res := s.DB(ctx).Model(&bankRequestRow{}).Where("state = 'in_flight' AND lease_owner = ?", owner).
		Updates(map[string]any{
			"state":          gorm.Expr("CASE WHEN maybe_sent THEN 'sent' ELSE 'pending' END"),
			"lease_owner":    "",
			"lease_until_ms": 0,
			"updated_at":     time.Now().UTC(),
		})
	if res.Error != nil {
		return 0, fmt.Errorf("release bank requests: %w", mapErr(res.Error))
	}
	return res.RowsAffected, nil
}

// ResumeBankRequests implements outbox.Leases.
func (s *Store) ResumeBankRequests(ctx context.Context, banks []string, now time.Time) (int64, error) {
	if len(banks) == 0 {
		return 0, nil
	}
	ms := now.UnixMilli()
	res := s.DB(ctx).Exec(`UPDATE bank_requests SET next_attempt_ms = ?
		WHERE state IN ('pending', 'sent') AND next_attempt_ms > ?
		  AND EXISTS (SELECT 1 FROM applications a WHERE a.id = bank_requests.application_id AND a.bank_code IN ?)`,
		ms, ms, banks)
	if res.Error != nil {
		return 0, fmt.Errorf("resume bank requests: %w", mapErr(res.Error))
	}
	return res.RowsAffected, nil
}

// BankRequests returns every outbox row of an application, oldest first
// (for tests and operators).
func (s *Store) BankRequests(ctx context.Context, applicationID int64) ([]outbox.Request, error) {
	var rows []bankRequestRow
	if err := s.DB(ctx).Where("application_id = ?", applicationID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]outbox.Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

// CountBankRequests returns how many outbox rows are in each state.
func (s *Store) CountBankRequests(ctx context.Context) (map[outbox.State]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	if err := s.DB(ctx).Model(&bankRequestRow{}).Select("state, COUNT(*) AS n").Group("state").Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := map[outbox.State]int64{}
	for _, r := range rows {
		out[outbox.State(r.State)] = r.N
	}
	return out, nil
}

// cardRow is a row of cards.
type cardRow struct {
	ID            int64 `gorm:"primaryKey"`
	ApplicationID int64
	PANToken      []byte `gorm:"column:pan_token"`
	PANEnc        []byte `gorm:"column:pan_enc"`
	LastFour      string
	Expiry        string
	PSN           string `gorm:"column:psn"`
	BankReference string
	State         string
	ReplaceSeq    int
	PendingChange string
	BlockReason   string
	ReplacedBy    *int64
	CreatedAt     time.Time
	ActivatedAt   *time.Time
	UpdatedAt     *time.Time
}

func (cardRow) TableName() string { return "cards" }

func (r cardRow) domain() issuance.Card {
	c := issuance.Card{ID: r.ID, ApplicationID: r.ApplicationID, PANToken: r.PANToken, PANSealed: r.PANEnc,
		LastFour: r.LastFour, Expiry: r.Expiry, PSN: r.PSN, BankReference: r.BankReference,
		State: issuance.BankCardState(r.State), ReplaceSeq: r.ReplaceSeq, PendingChange: issuance.CardChange(r.PendingChange),
		BlockReason: r.BlockReason, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.CreatedAt.UTC()}
	if r.ActivatedAt != nil {
		c.ActivatedAt = r.ActivatedAt.UTC()
	}
	if r.ReplacedBy != nil {
		c.ReplacedBy = *r.ReplacedBy
	}
	if r.UpdatedAt != nil {
		c.UpdatedAt = r.UpdatedAt.UTC()
	}
	return c
}

// CreateCard implements issuance.IssuedCardRepo.
func (s *Store) CreateCard(ctx context.Context, c *issuance.Card) error {
	r := cardRow{ApplicationID: c.ApplicationID, PANToken: c.PANToken, PANEnc: c.PANSealed, LastFour: c.LastFour,
		Expiry: c.Expiry, PSN: c.PSN, BankReference: c.BankReference, State: string(c.State), CreatedAt: c.CreatedAt.UTC(),
		ReplaceSeq: c.ReplaceSeq, PendingChange: string(c.PendingChange), BlockReason: c.BlockReason}
	if !c.UpdatedAt.IsZero() {
		u := c.UpdatedAt.UTC()
		r.UpdatedAt = &u
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Create(&r).Error; err != nil {
			return mapErr(err)
		}
		c.ID = r.ID
		return s.recordCardEvent(ctx, r.ID, "")
	})
}

// GetCardByApplication implements issuance.IssuedCardRepo: the current
// card, the one not replaced.
func (s *Store) GetCardByApplication(ctx context.Context, applicationID int64) (issuance.Card, error) {
	var r cardRow
	err := s.DB(ctx).Where("application_id = ? AND state <> ?", applicationID, string(issuance.BankCardReplaced)).Take(&r).Error
	if err != nil {
		return issuance.Card{}, mapErr(err)
	}
	return r.domain(), nil
}

// GetCardByToken implements issuance.IssuedCardRepo.
func (s *Store) GetCardByToken(ctx context.Context, token []byte) (issuance.Card, error) {
	var r cardRow
	if err := s.DB(ctx).Where("pan_token = ?", token).Take(&r).Error; err != nil {
		return issuance.Card{}, mapErr(err)
	}
	return r.domain(), nil
}

// ActivateCard implements issuance.IssuedCardRepo.
func (s *Store) ActivateCard(ctx context.Context, id int64, at time.Time) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Model(&cardRow{}).Where("id = ? AND state = ?", id, string(issuance.BankCardIssued)).
			Updates(map[string]any{"state": string(issuance.BankCardActive), "activated_at": at.UTC(), "updated_at": at.UTC()})
		if res.Error != nil || res.RowsAffected == 0 {
			return mapErr(res.Error)
		}
		return s.recordCardEvent(ctx, id, string(issuance.BankCardIssued))
	})
}

// spendingRow is a row of card_spending.
type spendingRow struct {
	ID            int64  `gorm:"primaryKey"`
	RRN           string `gorm:"column:rrn"`
	Kind          string
	CardID        *int64
	ApplicationID *int64
	OrgPath       string
	Amount        int64
	Currency      string
	MCC           string `gorm:"column:mcc"`
	MerchantName  string
	LocalDate     string
	LocalTime     string
	ReceivedAt    time.Time
	ChinaDate     string
}

func (spendingRow) TableName() string { return "card_spending" }

// RecordSpending implements issuance.IssuedCardRepo with INSERT … ON CONFLICT
// (rrn, kind) DO NOTHING.
func (s *Store) RecordSpending(ctx context.Context, sp *issuance.Spending) (bool, error) {
	r := spendingRow{RRN: sp.RRN, Kind: sp.Kind, OrgPath: sp.OrgPath, Amount: sp.Amount, Currency: sp.Currency,
		MCC: sp.MCC, MerchantName: sp.MerchantName, LocalDate: sp.LocalDate, LocalTime: sp.LocalTime,
		ReceivedAt: sp.ReceivedAt.UTC(), ChinaDate: sp.ChinaDate}
	if sp.CardID != 0 {
		id, app := sp.CardID, sp.ApplicationID
		r.CardID, r.ApplicationID = &id, &app
	}
	var added bool
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "rrn"}, {Name: "kind"}},
			DoNothing: true,
		}).Create(&r)
		if res.Error != nil {
			return mapErr(res.Error)
		}
		sp.ID, added = r.ID, res.RowsAffected == 1
		if !added || r.CardID == nil {
			return nil
		}
		return s.recordSpending(ctx, &r)
	})
	return added, err
}

// Spending returns the recorded spending of a card, oldest first.
func (s *Store) Spending(ctx context.Context, cardID int64) ([]issuance.Spending, error) {
	var rows []spendingRow
	if err := s.DB(ctx).Where("card_id = ?", cardID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Spending, len(rows))
	for i, r := range rows {
		out[i] = issuance.Spending{ID: r.ID, RRN: r.RRN, Kind: r.Kind, OrgPath: r.OrgPath, Amount: r.Amount,
			Currency: r.Currency, MCC: r.MCC, MerchantName: r.MerchantName, LocalDate: r.LocalDate,
			LocalTime: r.LocalTime, ReceivedAt: r.ReceivedAt.UTC(), ChinaDate: r.ChinaDate}
		if r.CardID != nil {
			out[i].CardID = *r.CardID
		}
		if r.ApplicationID != nil {
			out[i].ApplicationID = *r.ApplicationID
		}
	}
	return out, nil
}

// CardByPANToken implements checkin.CardDirectory (check-in) over the
// bank-issued cards: the holder is the application's volunteer; a card that
// is blocked, replaced or cancelled, or whose block or replacement is on its
// way to the bank, is reported blocked (issuance.CardRefused).
func (s *Store) CardByPANToken(ctx context.Context, panToken []byte) (checkin.CardBinding, error) {
	var r cardRow
	if err := s.DB(ctx).Where("pan_token = ?", panToken).Take(&r).Error; err != nil {
		return checkin.CardBinding{}, mapErr(err)
	}
	var holder struct{ VolunteerID int64 }
	if err := s.DB(ctx).Table("applications").Select("volunteer_id").Where("id = ?", r.ApplicationID).
		Take(&holder).Error; err != nil {
		return checkin.CardBinding{}, mapErr(err)
	}
	b := checkin.CardBinding{PANToken: r.PANToken, VolunteerID: holder.VolunteerID, PANLast4: r.LastFour,
		Expiry: r.Expiry, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.CreatedAt.UTC()}
	b.Status, b.Reason = checkin.DirectoryStatus(issuance.BankCardState(r.State), issuance.CardChange(r.PendingChange))
	return b, nil
}
