package store

// Personalization storage (issue 5): sessions with their sealed state and
// the records of personalized cards. Tables from 00060_personalization.sql.

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.PersoRepo = (*Store)(nil)

// mapPersoErr maps the perso_records unique violations to a
// *issuance.ConflictError ("personalized_card"), then as mapErr.
func mapPersoErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && strings.HasPrefix(pgErr.ConstraintName, "perso_records_") {
		return &issuance.ConflictError{What: "personalized_card"}
	}
	var sqErr *sqlite3.Error
	if errors.As(err, &sqErr) && sqErr.ExtendedCode() == sqlite3.CONSTRAINT_UNIQUE && strings.Contains(sqErr.Error(), "perso_records.") {
		return &issuance.ConflictError{What: "personalized_card"}
	}
	return mapErr(err)
}

type persoSessionRow struct {
	ID            string `gorm:"primaryKey"`
	ApplicationID int64
	ActorTokenID  int64
	BankCode      string
	Reader        string
	Branch        string
	State         string
	Step          int
	Secret        []byte
	ChipSerial    string
	Failure       string
	ExpiresAt     time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (persoSessionRow) TableName() string { return "perso_sessions" }

func (r persoSessionRow) domain() issuance.PersoSession {
	return issuance.PersoSession{ID: r.ID, ApplicationID: r.ApplicationID, ActorTokenID: r.ActorTokenID, BankCode: r.BankCode,
		Reader: r.Reader, Branch: r.Branch, State: issuance.PersoState(r.State), Step: r.Step, Secret: r.Secret,
		ChipSerial: r.ChipSerial, Failure: r.Failure, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

var liveStates = []string{string(issuance.PersoOpen), string(issuance.PersoScript), string(issuance.PersoReadBack)}

// CreatePersoSession implements issuance.PersoRepo.
func (s *Store) CreatePersoSession(ctx context.Context, ps *issuance.PersoSession) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		err := s.DB(ctx).Model(&persoSessionRow{}).Where("application_id = ? AND state IN ?", ps.ApplicationID, liveStates).
			Updates(map[string]any{"state": string(issuance.PersoSuperseded), "updated_at": ps.CreatedAt.UTC()}).Error
		if err != nil {
			return mapErr(err)
		}
		r := persoSessionRow{ID: ps.ID, ApplicationID: ps.ApplicationID, ActorTokenID: ps.ActorTokenID, BankCode: ps.BankCode,
			Reader: ps.Reader, Branch: ps.Branch, State: string(ps.State), Step: ps.Step, Secret: ps.Secret,
			ChipSerial: ps.ChipSerial, Failure: ps.Failure, ExpiresAt: ps.ExpiresAt.UTC(), CreatedAt: ps.CreatedAt.UTC(), UpdatedAt: ps.UpdatedAt.UTC()}
		return mapErr(s.DB(ctx).Create(&r).Error)
	})
}

// GetPersoSession implements issuance.PersoRepo.
func (s *Store) GetPersoSession(ctx context.Context, id string) (issuance.PersoSession, error) {
	var r persoSessionRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return issuance.PersoSession{}, mapErr(err)
	}
	return r.domain(), nil
}

// ListPersoSessions implements issuance.PersoRepo.
func (s *Store) ListPersoSessions(ctx context.Context, applicationID int64) ([]issuance.PersoSession, error) {
	var rows []persoSessionRow
	if err := s.DB(ctx).Where("application_id = ?", applicationID).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.PersoSession, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdatePersoSession implements issuance.PersoRepo.
func (s *Store) UpdatePersoSession(ctx context.Context, ps *issuance.PersoSession, from issuance.PersoState, fromStep int) error {
	res := s.DB(ctx).Model(&persoSessionRow{}).Where("id = ? AND state = ? AND step = ?", ps.ID, string(from), fromStep).
		Updates(map[string]any{
			"state": string(ps.State), "step": ps.Step, "secret": ps.Secret, "chip_serial": ps.ChipSerial,
			"failure": ps.Failure, "expires_at": ps.ExpiresAt.UTC(), "updated_at": ps.UpdatedAt.UTC(),
		})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected != 1 {
		return issuance.ErrConflict
	}
	return nil
}

type persoRecordRow struct {
	ID             int64 `gorm:"primaryKey"`
	ApplicationID  int64
	CardID         int64
	SessionID      string
	ChipSerial     string
	PANToken       []byte `gorm:"column:pan_token"`
	LastFour       string
	PSN            string `gorm:"column:psn"`
	Expiry         string
	ActorTokenID   int64
	Reader         string
	Branch         string
	PersonalizedAt time.Time
}

func (persoRecordRow) TableName() string { return "perso_records" }

// CreatePersoRecord implements issuance.PersoRepo.
func (s *Store) CreatePersoRecord(ctx context.Context, rec *issuance.PersoRecord) error {
	r := persoRecordRow{ApplicationID: rec.ApplicationID, CardID: rec.CardID, SessionID: rec.SessionID, ChipSerial: rec.ChipSerial,
		PANToken: rec.PANToken, LastFour: rec.LastFour, PSN: rec.PSN, Expiry: rec.Expiry, ActorTokenID: rec.ActorTokenID,
		Reader: rec.Reader, Branch: rec.Branch, PersonalizedAt: rec.PersonalizedAt.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapPersoErr(err)
	}
	rec.ID = r.ID
	return nil
}

// GetPersoRecord implements issuance.PersoRepo.
func (s *Store) GetPersoRecord(ctx context.Context, applicationID int64) (issuance.PersoRecord, error) {
	var r persoRecordRow
	// The latest: a renewed or replaced card is personalized again.
	if err := s.DB(ctx).Where("application_id = ?", applicationID).Order("id DESC").Take(&r).Error; err != nil {
		return issuance.PersoRecord{}, mapErr(err)
	}
	return issuance.PersoRecord{ID: r.ID, ApplicationID: r.ApplicationID, CardID: r.CardID, SessionID: r.SessionID,
		ChipSerial: r.ChipSerial, PANToken: r.PANToken, LastFour: r.LastFour, PSN: r.PSN, Expiry: r.Expiry,
		ActorTokenID: r.ActorTokenID, Reader: r.Reader, Branch: r.Branch, PersonalizedAt: r.PersonalizedAt.UTC()}, nil
}
