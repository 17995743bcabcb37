package personalization

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/personalization/dataprep"
)

// DefaultTTL is how long a session stays open.
const DefaultTTL = 10 * time.Minute

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Issuance is the domain service (required).
	Issuance *issuance.Service
	// Keys is the key store (HSM port; required).
	Keys dataprep.KeyStore
	// CAKeys are the trusted scheme CA keys the read-back's DDA is checked
	// against (required).
	CAKeys emv.CAKeys
	// Preparer prepares the card data; dataprep.New(Keys) when nil.
	Preparer *dataprep.Preparer
	// TTL is the session lifetime; DefaultTTL when zero.
	TTL time.Duration
	// Level is the secure-channel level; gp.LevelMACENC when zero.
	Level gp.SecurityLevel
	// Rand supplies host challenges, unpredictable numbers and session IDs;
	// crypto/rand when nil.
	Rand io.Reader
}

// Service runs personalization sessions. It is safe for concurrent use and
// keeps no session state in memory.
type Service struct {
	iss   *issuance.Service
	keys  dataprep.KeyStore
	ca    emv.CAKeys
	prep  *dataprep.Preparer
	ttl   time.Duration
	level gp.SecurityLevel
	rand  io.Reader
}

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Issuance == nil:
		return nil, errors.New("personalization: nil issuance service")
	case cfg.Keys == nil:
		return nil, errors.New("personalization: nil key store")
	case len(cfg.CAKeys) == 0:
		return nil, errors.New("personalization: no CA keys")
	case cfg.TTL < 0:
		return nil, errors.New("personalization: negative TTL")
	}
	s := &Service{iss: cfg.Issuance, keys: cfg.Keys, ca: cfg.CAKeys, prep: cfg.Preparer, ttl: cfg.TTL, level: cfg.Level, rand: cfg.Rand}
	if s.ttl == 0 {
		s.ttl = DefaultTTL
	}
	if s.level == 0 {
		s.level = gp.LevelMACENC
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.prep == nil {
		p, err := dataprep.New(cfg.Keys, dataprep.WithClock(cfg.Issuance.Now))
		if err != nil {
			return nil, err
		}
		s.prep = p
	}
	return s, nil
}

// OpenRequest opens a session: the reader and branch are recorded with the
// card, the PIN goes onto it.
type OpenRequest struct {
	Reader string
	Branch string
	PIN    dataprep.PIN
}

// Phase names the batch a Step carries.
type Phase string

// Phases.
const (
	PhaseSelect   Phase = "select"    // batch 1
	PhaseScript   Phase = "script"    // batch 2
	PhaseReadBack Phase = "read_back" // read-back only (card written by an earlier session)
	PhaseDone     Phase = "done"      // no commands; Result is set
)

// Step is the server's answer: the next batch to relay, or the result.
// Commands are sent in order, stopping at the first status other than 9000;
// the responses so far are posted back (a pulled card posts nothing).
type Step struct {
	SessionID     string
	ApplicationID int64
	Phase         Phase
	Commands      []cardio.Command
	ExpiresAt     time.Time
	Result        *Result
}

// Result is a personalized card.
type Result struct {
	Application issuance.Application
	Record      issuance.PersoRecord
	// MaskedPAN is the PAN read back from the card, masked.
	MaskedPAN  string
	Name       string
	EmbossName string
	// Recovered is set when the card had been written by an earlier
	// session of the application (pulled after its last STORE DATA): it
	// carries the PIN chosen then.
	Recovered bool
}

// state is the sealed server-side session state.
type state struct {
	HostChallenge cardio.Hex      `json:"hc"`
	KeyVersion    byte            `json:"kv"`
	Prepared      json.RawMessage `json:"prepared"`
	Batch         json.RawMessage `json:"batch,omitempty"`
}

func (s *Service) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("personalization: random: %w", err)
	}
	return b, nil
}

// Open starts a session for a bank_approved application (a new session
// supersedes the application's live ones) and returns batch 1.
func (s *Service) Open(ctx context.Context, a issuance.Actor, applicationID int64, req OpenRequest) (Step, error) {
	if req.PIN.IsZero() {
		return Step{}, &issuance.ValidationError{Field: "pin", Reason: "4 to 12 digits required"}
	}
	if err := checkLabel("reader", req.Reader, true); err != nil {
		return Step{}, err
	}
	if err := checkLabel("branch", req.Branch, false); err != nil {
		return Step{}, err
	}
	subj, err := s.iss.PersonalizationSubject(ctx, a, applicationID)
	if err != nil {
		return Step{}, err
	}
	in, err := input(subj, req.PIN, s.iss.Now())
	if err != nil {
		return Step{}, err
	}
	prepared, err := s.prep.Prepare(ctx, in)
	if err != nil {
		return Step{}, fmt.Errorf("personalization: prepare application %d: %w", applicationID, err)
	}
	hc, err := s.random(8)
	if err != nil {
		return Step{}, err
	}
	kmc, err := s.keys.KMC(ctx, 0)
	if err != nil {
		return Step{}, fmt.Errorf("personalization: %w", err)
	}
	_, cmds, err := dataprep.FirstBatch(ctx, s.keys, dataprep.SessionOptions{KeyVersion: kmc.Version, Level: s.level, Rand: bytes.NewReader(hc)})
	if err != nil {
		return Step{}, fmt.Errorf("personalization: %w", err)
	}
	pb, err := prepared.Export()
	if err != nil {
		return Step{}, err
	}
	id, err := s.random(16)
	if err != nil {
		return Step{}, err
	}
	ps := issuance.PersoSession{ID: hex.EncodeToString(id), ApplicationID: applicationID, Reader: strings.TrimSpace(req.Reader),
		Branch: strings.TrimSpace(req.Branch), State: issuance.PersoOpen, Step: 1, ExpiresAt: s.iss.Now().Add(s.ttl)}
	if ps.Secret, err = s.seal(ps.ID, state{HostChallenge: hc, KeyVersion: kmc.Version, Prepared: pb}); err != nil {
		return Step{}, err
	}
	if err := s.iss.StartPersonalization(ctx, a, &ps); err != nil {
		return Step{}, fmt.Errorf("personalization: open session for application %d: %w", applicationID, err)
	}
	return Step{SessionID: ps.ID, ApplicationID: applicationID, Phase: PhaseSelect, Commands: cmds, ExpiresAt: ps.ExpiresAt}, nil
}

func checkLabel(field, v string, required bool) error {
	v = strings.TrimSpace(v)
	if (required && v == "") || len([]rune(v)) > 100 {
		return &issuance.ValidationError{Field: field, Reason: "1 to 100 characters"}
	}
	return nil
}

func (s *Service) seal(id string, st state) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("personalization: session state: %w", err)
	}
	return s.iss.SealPerso(id, b)
}

func (s *Service) open(ps issuance.PersoSession) (state, error) {
	var st state
	b, err := s.iss.OpenPerso(ps.ID, ps.Secret)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("personalization: session state: %w", err)
	}
	return st, nil
}

// input maps the domain subject to dataprep's input.
func input(subj issuance.PersoSubject, pin dataprep.PIN, now time.Time) (dataprep.Input, error) {
	pan, err := emv.NewPAN(subj.PAN.Reveal())
	if err != nil {
		return dataprep.Input{}, &issuance.ValidationError{Field: "pan", Reason: "the bank's PAN is malformed"}
	}
	exp, err := time.Parse("0601", subj.Card.Expiry)
	if err != nil {
		return dataprep.Input{}, &issuance.ValidationError{Field: "expiry", Reason: "the bank's expiry is not YYMM"}
	}
	psn, err := psnByte(subj.Card.PSN)
	if err != nil {
		return dataprep.Input{}, err
	}
	aid, err := hex.DecodeString(subj.Product.AID)
	if err != nil {
		return dataprep.Input{}, &issuance.ValidationError{Field: "aid", Reason: "the product's AID is not hex"}
	}
	label := "PBOC DEBIT"
	if subj.Product.Kind == issuance.CardKind("credit") {
		label = "PBOC CREDIT"
	}
	idType := emv.IDTypeOther
	switch subj.Volunteer.IDType {
	case issuance.IDResident:
		idType = emv.IDTypeResidentCard
	case issuance.IDPassport:
		idType = emv.IDTypePassport
	}
	return dataprep.Input{
		Bank: subj.Product.BankCode, Product: subj.Product.Code,
		LegalName: subj.Volunteer.Name, EmbossName: subj.Volunteer.EmbossName,
		IDType: idType, IDNumber: emv.NewIDNumber(subj.Volunteer.IDNumber.Reveal()),
		PIN: pin, AID: aid, Label: label,
		PAN: pan, Expiry: exp, Effective: now, PSN: psn,
	}, nil
}

// psnByte turns the bank's PSN ("001", "01", "1") into the card's BCD byte.
func psnByte(s string) (byte, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 99 {
		return 0, &issuance.ValidationError{Field: "psn", Reason: "the bank's PSN is not 0-99"}
	}
	return byte(n/10<<4 | n%10), nil
}

// Respond takes the card's responses to the batch handed out last and
// returns the next step: batch 2 after batch 1, the result (or a
// read-back-only batch for a card an earlier session wrote) after batch 2.
// A card error closes the session (state failed): open a new one to retry.
func (s *Service) Respond(ctx context.Context, a issuance.Actor, sessionID string, responses []cardio.Response) (Step, error) {
	ps, err := s.iss.PersoSessionFor(ctx, a, sessionID)
	if err != nil {
		return Step{}, err
	}
	st, err := s.open(ps)
	if err != nil {
		return Step{}, err
	}
	switch ps.State {
	case issuance.PersoOpen:
		return s.afterSelect(ctx, a, ps, st, responses)
	default:
		return s.afterScript(ctx, a, ps, st, responses)
	}
}

var firstNames = []string{"SELECT card manager", "GET DATA CPLC", "INITIALIZE UPDATE"}

// fail closes the session with a masked reason and returns cause.
func (s *Service) fail(ctx context.Context, ps issuance.PersoSession, reason string, cause error) error {
	from, step := ps.State, ps.Step
	ps.State, ps.Failure = issuance.PersoFailed, reason
	if from == issuance.PersoOpen {
		ps.Secret = nil // nothing was written to any card
	}
	if err := s.iss.SavePersoSession(ctx, &ps, from, step); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func (s *Service) afterSelect(ctx context.Context, a issuance.Actor, ps issuance.PersoSession, st state, rs []cardio.Response) (Step, error) {
	if len(rs) > len(firstNames) || len(rs) == 0 {
		return Step{}, fmt.Errorf("%d responses to %d commands: %w", len(rs), len(firstNames), ErrResponses)
	}
	for i, r := range rs {
		if !r.OK() {
			ce := &CardError{Index: i, Command: firstNames[i], SW: r.SW}
			return Step{}, s.fail(ctx, ps, ce.Error(), ce)
		}
	}
	if len(rs) < len(firstNames) {
		return Step{}, fmt.Errorf("%d responses to %d commands: %w", len(rs), len(firstNames), ErrResponses)
	}
	cplc, err := gp.ParseCPLC(rs[1].Data)
	if err != nil {
		return Step{}, s.fail(ctx, ps, "CPLC malformed", fmt.Errorf("%w: %w", ErrCardRefused, err))
	}
	chip := cplc.ChipSerial()
	session, _, err := dataprep.FirstBatch(ctx, s.keys, dataprep.SessionOptions{KeyVersion: st.KeyVersion, Level: s.level, Rand: bytes.NewReader(st.HostChallenge)})
	if err != nil {
		return Step{}, err
	}
	prepared, err := dataprep.ImportPrepared(st.Prepared)
	if err != nil {
		return Step{}, err
	}
	un, err := s.random(4)
	if err != nil {
		return Step{}, err
	}
	batch, err := dataprep.SecondBatch(session, rs[2].Data, prepared, s.iss.Now(), un)
	if err != nil {
		if errors.Is(err, gp.ErrCardCryptogram) || errors.Is(err, gp.ErrKeyVersion) {
			return Step{}, s.fail(ctx, ps, "card cryptogram or key version does not match the KMC", fmt.Errorf("%w: %w", ErrCardRefused, err))
		}
		if errors.Is(err, gp.ErrCardChallenge) {
			return Step{}, s.fail(ctx, ps, "card challenge is not SCP02 i=55's (docs/card-profile.md section 9)", fmt.Errorf("%w: %w", ErrCardRefused, err))
		}
		return Step{}, s.fail(ctx, ps, "second batch", err)
	}
	if st.Batch, err = batch.Export(); err != nil {
		return Step{}, err
	}
	from, step := ps.State, ps.Step
	ps.State, ps.Step, ps.ChipSerial = issuance.PersoScript, ps.Step+1, chip
	if ps.Secret, err = s.seal(ps.ID, st); err != nil {
		return Step{}, err
	}
	if err := s.iss.SavePersoSession(ctx, &ps, from, step); err != nil {
		return Step{}, err
	}
	return Step{SessionID: ps.ID, ApplicationID: ps.ApplicationID, Phase: PhaseScript, Commands: batch.Commands, ExpiresAt: ps.ExpiresAt}, nil
}

func commandName(b *dataprep.Batch, i int) string {
	c := b.Commands[i]
	switch {
	case c.INS == 0x82:
		return "EXTERNAL AUTHENTICATE"
	case c.INS == 0xE6:
		return "INSTALL"
	case c.INS == 0xE2:
		return "STORE DATA"
	case c.INS == cardio.INSInternalAuth:
		return "INTERNAL AUTHENTICATE"
	case i >= b.ReadBack:
		return "read-back"
	}
	return "command"
}

func (s *Service) afterScript(ctx context.Context, a issuance.Actor, ps issuance.PersoSession, st state, rs []cardio.Response) (Step, error) {
	batch, err := dataprep.ImportBatch(st.Batch)
	if err != nil {
		return Step{}, err
	}
	if len(rs) == 0 || len(rs) > len(batch.Commands) {
		return Step{}, fmt.Errorf("%d responses to %d commands: %w", len(rs), len(batch.Commands), ErrResponses)
	}
	last := len(rs) - 1
	if len(rs) < len(batch.Commands) {
		if rs[last].OK() {
			return Step{}, fmt.Errorf("%d responses to %d commands: %w", len(rs), len(batch.Commands), ErrResponses)
		}
		// INSTALL refused after a good EXTERNAL AUTHENTICATE: the card is
		// already personalized. Perhaps by an earlier session of ours.
		if ps.State == issuance.PersoScript && last == 1 && rs[1].SW == 0x6985 && rs[0].OK() {
			return s.recover(ctx, ps, st)
		}
		ce := &CardError{Index: last, Command: commandName(batch, last), SW: rs[last].SW}
		return Step{}, s.fail(ctx, ps, ce.Error(), ce)
	}
	prepared, err := dataprep.ImportPrepared(st.Prepared)
	if err != nil {
		return Step{}, err
	}
	facts, err := dataprep.CheckReadBack(ctx, prepared, batch, rs, s.ca)
	if err != nil {
		reason := "read-back or DDA mismatch"
		if facts != nil && facts.ODA.Failure != "" {
			reason += ": " + facts.ODA.Failure
		}
		return Step{}, s.fail(ctx, ps, reason, fmt.Errorf("%w: %w", ErrCardCheck, err))
	}
	recovered := ps.State == issuance.PersoReadBack
	app, rec, err := s.iss.CompletePersonalization(ctx, a, &ps, ps.State, ps.Step, issuance.PersoRecord{ChipSerial: ps.ChipSerial})
	if err != nil {
		return Step{}, err
	}
	return Step{SessionID: ps.ID, ApplicationID: ps.ApplicationID, Phase: PhaseDone, ExpiresAt: ps.ExpiresAt,
		Result: &Result{Application: app, Record: rec, MaskedPAN: facts.PAN.String(), Name: facts.CardholderName, EmbossName: facts.CardholderNameLatin, Recovered: recovered}}, nil
}

// recover handles a card that refused INSTALL because it is personalized:
// if an earlier session of this application wrote this chip, its prepared
// data are what the card holds, and a read-back-only batch checks them.
func (s *Service) recover(ctx context.Context, ps issuance.PersoSession, st state) (Step, error) {
	sessions, err := s.iss.PersoSessions(ctx, ps.ApplicationID)
	if err != nil {
		return Step{}, err
	}
	for _, old := range sessions {
		if old.ID == ps.ID || old.ChipSerial != ps.ChipSerial || old.Step < 2 || len(old.Secret) == 0 {
			continue
		}
		ost, err := s.open(old)
		if err != nil {
			return Step{}, err
		}
		prepared, err := dataprep.ImportPrepared(ost.Prepared)
		if err != nil {
			return Step{}, err
		}
		un, err := s.random(4)
		if err != nil {
			return Step{}, err
		}
		batch, err := dataprep.ReadBackBatch(prepared, s.iss.Now(), un)
		if err != nil {
			return Step{}, err
		}
		st.Prepared = ost.Prepared
		if st.Batch, err = batch.Export(); err != nil {
			return Step{}, err
		}
		from, step := ps.State, ps.Step
		ps.State, ps.Step = issuance.PersoReadBack, ps.Step+1
		if ps.Secret, err = s.seal(ps.ID, st); err != nil {
			return Step{}, err
		}
		if err := s.iss.SavePersoSession(ctx, &ps, from, step); err != nil {
			return Step{}, err
		}
		return Step{SessionID: ps.ID, ApplicationID: ps.ApplicationID, Phase: PhaseReadBack, Commands: batch.Commands, ExpiresAt: ps.ExpiresAt}, nil
	}
	ce := &CardError{Index: 1, Command: "INSTALL", SW: 0x6985}
	return Step{}, s.fail(ctx, ps, "card already personalized (not by this application)", fmt.Errorf("%w: %w", ErrNotBlank, ce))
}
