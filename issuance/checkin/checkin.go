package checkin

// The Service, its configuration, its storage ports and its errors. The
// commands live by subject: activities.go, taps.go (challenges and taps),
// cards.go (check-in blocks), hours.go (corrections, added hours, service
// records, member hours), stars.go (star levels and tiers), benefits.go
// (offers and the benefit check), offers.go (listing, changing and
// withdrawing offers), redemptions.go (benefit checks recorded, offers
// redeemed).

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/volcard/volcard/evidence"
	"github.com/volcard/volcard/issuance"
)

// Check-in errors. Match them with errors.Is; none carries card or personal
// data.
var (
	// ErrChallengeUnknown means a tap names a challenge that was never
	// issued to this terminal.
	ErrChallengeUnknown = errors.New("card challenge unknown")
	// ErrChallengeExpired means the challenge was issued too long ago.
	ErrChallengeExpired = errors.New("card challenge expired")
	// ErrChallengeReplayed means the challenge was already used by an
	// earlier tap: every challenge is good for one tap only.
	ErrChallengeReplayed = errors.New("card challenge already used")
	// ErrEvidenceReplayed means the same signed dynamic data was presented
	// before (a recorded offline tap sent again under another sequence).
	ErrEvidenceReplayed = errors.New("card evidence already presented")
	// ErrCardNotGenuine means the card evidence did not verify: the
	// certificate chain, the PAN in the ICC certificate or the signature
	// over the challenge failed. The error is a *NotGenuineError.
	ErrCardNotGenuine = errors.New("card is not genuine")
	// ErrCardUnknown means the card is genuine but belongs to nobody known:
	// no card binding and no volunteer with the card's ID number.
	ErrCardUnknown = errors.New("card unknown")
	// ErrCardBlocked means the card was blocked (lost, stolen, replaced).
	ErrCardBlocked = errors.New("card blocked")
	// ErrCardClosed means the card was closed at the bank for good (the
	// holder left, died, or gave it up for another card).
	ErrCardClosed = errors.New("card closed")
	// ErrCardExpired means the card is genuine but past its expiry month
	// (issuance.ExpiryEnd): the holder needs a renewed card.
	ErrCardExpired = errors.New("card expired")
	// ErrTapSequenceReused means a terminal sent another tap under a
	// sequence number it had already used.
	ErrTapSequenceReused = errors.New("tap sequence number reused with a different tap")
)

// NotGenuineError is a refused card: Cause is the Verifier's refusal (from
// emv.EvidenceVerifier an *emv.ODAError: ErrCAKeyUnknown,
// ErrIssuerCertificate, ErrICCCertificate with ErrPANMismatch, ErrSignature,
// ...; or a signature over another number than the challenge). It never
// contains card data.
type NotGenuineError struct {
	Cause error
}

// Error implements error.
func (e *NotGenuineError) Error() string {
	if e.Cause == nil {
		return ErrCardNotGenuine.Error()
	}
	return ErrCardNotGenuine.Error() + ": " + e.Cause.Error()
}

// Unwrap returns ErrCardNotGenuine and the cause.
func (e *NotGenuineError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrCardNotGenuine}
	}
	return []error{ErrCardNotGenuine, e.Cause}
}

// Verifier checks the evidence a terminal sends of a card's presence: the
// certificate chain down to the ICC key and the card's signature, over
// challenge when it is not nil. Malformed evidence is an
// *evidence.FieldError; any other error means the card is not genuine.
// cardio/emv implements it (emv.EvidenceVerifier).
type Verifier interface {
	Verify(card evidence.Card, challenge []byte, now time.Time) (evidence.Identity, error)
}

// errNotOverChallenge refuses a signature over another unpredictable number
// than the challenge issued.
var errNotOverChallenge = errors.New("the signed data is not over the challenge issued")

// verify checks card evidence with the configured Verifier: malformed
// evidence is a *ValidationError naming the field, anything else a
// *NotGenuineError. The identity's ID number is normalized.
func (c *Service) verify(card evidence.Card, challenge []byte, now time.Time) (evidence.Identity, error) {
	if c.cfg.Verifier == nil {
		return evidence.Identity{}, &NotGenuineError{Cause: errors.New("no card verifier configured")}
	}
	id, err := c.cfg.Verifier.Verify(card, challenge, now)
	var fe *evidence.FieldError
	switch {
	case errors.As(err, &fe):
		return id, issuance.Invalid("card."+fe.Field, fe.Reason)
	case err != nil:
		return id, &NotGenuineError{Cause: err}
	}
	id.IDNumber = issuance.NormalizeIDNumber(id.IDNumber)
	return id, nil
}

// RoundingMode says which way credited time is rounded to the unit.
type RoundingMode string

// Rounding modes.
const (
	RoundDown    RoundingMode = "down"
	RoundNearest RoundingMode = "nearest"
	RoundUp      RoundingMode = "up"
)

// Rounding is the rule that turns a session's clipped duration into
// credited minutes, e.g. down to a quarter hour: {Unit: 15 * time.Minute,
// Mode: RoundDown}.
type Rounding struct {
	Unit time.Duration // a whole number of minutes, 1 min to 24 h
	Mode RoundingMode
}

// DefaultRounding credits whole minutes, rounding down.
var DefaultRounding = Rounding{Unit: time.Minute, Mode: RoundDown}

// Minutes returns d rounded by r, in whole minutes (0 for d ≤ 0).
func (r Rounding) Minutes(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	u := r.Unit
	if u <= 0 {
		u = time.Minute
	}
	n := d / u
	switch r.Mode {
	case RoundNearest:
		if d%u*2 >= u {
			n++
		}
	case RoundUp:
		if d%u != 0 {
			n++
		}
	}
	return int64(n * u / time.Minute)
}

func (r Rounding) validate() error {
	if r.Unit < time.Minute || r.Unit > 24*time.Hour || r.Unit%time.Minute != 0 {
		return fmt.Errorf("issuance: rounding unit %s must be whole minutes between 1m and 24h", r.Unit)
	}
	switch r.Mode {
	case RoundDown, RoundNearest, RoundUp:
		return nil
	}
	return fmt.Errorf("issuance: rounding mode %q must be down, nearest or up", r.Mode)
}

// DefaultStarThresholds are the national star-volunteer thresholds in
// lifetime service hours: 1 to 5 stars; five-star at 1500 h.
var DefaultStarThresholds = []float64{100, 300, 600, 1000, 1500}

// DefaultMemberExpectation is the yearly service expected of Youth League
// and Party members, in hours.
const DefaultMemberExpectation = 20

// Config configures a Checkin. Zero fields take the defaults named
// on each field.
type Config struct {
	// Verifier checks card evidence against the trusted CA keys (the same
	// list terminals use; test CA in testdata/keys/ca-public.json):
	// emv.EvidenceVerifier. Required for taps and benefit checks.
	Verifier Verifier
	// Rounding of credited time per session; default DefaultRounding.
	Rounding Rounding
	// StarThresholds are the lifetime hours needed for 1, 2, ... stars, in
	// increasing order; default DefaultStarThresholds. The last is the
	// five-star (top) tier.
	StarThresholds []float64
	// MemberExpectation is the yearly hours expected of league and party
	// members; default DefaultMemberExpectation.
	MemberExpectation float64
	// ChallengeTTL is how long a terminal challenge stays valid; default 60 s.
	ChallengeTTL time.Duration
	// MaxOfflineAge is how old a queued offline tap may be when it reaches
	// the server; default 30 days. Offline taps dated in the future (beyond
	// 5 minutes of clock skew) are refused.
	MaxOfflineAge time.Duration
	// Location fixes the year boundaries of service hours; default China
	// Standard Time (UTC+8).
	Location *time.Location
	// Rand is the source of challenges; default crypto/rand.
	Rand io.Reader
	// Cards, when set, is consulted first to map a PAN token to its holder
	// (the issued-cards table written by personalization and the bank
	// outbox). Without it, or when it does not know the card, the check-in
	// card bindings are used, and failing those the ID number on the card
	// (9F61, covered by the certificate chain) through the volunteer blind
	// index; the binding found is remembered.
	Cards CardDirectory
}

// Checkin runs check-in at service sites: activities, taps (with card
// presence evidence), service hours, star levels, benefit tiers and the
// member-hours report. Build it with New; it is safe for concurrent
// use.
type Service struct {
	svc *issuance.Service
	st  Store
	cfg Config

	activities sync.Map // id → Activity; activities do not change once created

	// lookup: read a tap's card, holder and open attendance at once (and
	// use the challenge in the same round trip); false when a custom
	// Config.Cards is set.
	lookup bool
	// writer: write a tap in one statement (the database can, and lookup).
	writer bool
}

// New returns the check-in service over svc (the core: actors, scope,
// volunteers) and st, the check-in storage (issuance/store implements it).
func New(svc *issuance.Service, st Store, cfg Config) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("checkin: nil service or store")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Rounding == (Rounding{}) {
		cfg.Rounding = DefaultRounding
	}
	if err := cfg.Rounding.validate(); err != nil {
		return nil, err
	}
	if len(cfg.StarThresholds) == 0 {
		cfg.StarThresholds = DefaultStarThresholds
	}
	for i, h := range cfg.StarThresholds {
		if h <= 0 || (i > 0 && h <= cfg.StarThresholds[i-1]) {
			return nil, errors.New("issuance: star thresholds must be positive and increasing")
		}
	}
	cfg.StarThresholds = append([]float64(nil), cfg.StarThresholds...)
	if cfg.MemberExpectation == 0 {
		cfg.MemberExpectation = DefaultMemberExpectation
	}
	if cfg.MemberExpectation < 0 {
		return nil, errors.New("issuance: negative member expectation")
	}
	if cfg.ChallengeTTL == 0 {
		cfg.ChallengeTTL = time.Minute
	}
	if cfg.ChallengeTTL < time.Second || cfg.ChallengeTTL > time.Hour {
		return nil, fmt.Errorf("issuance: challenge ttl %s out of range (1s–1h)", cfg.ChallengeTTL)
	}
	if cfg.MaxOfflineAge == 0 {
		cfg.MaxOfflineAge = 30 * 24 * time.Hour
	}
	if cfg.MaxOfflineAge < 0 {
		return nil, errors.New("issuance: negative max offline age")
	}
	if cfg.Location == nil {
		cfg.Location = issuance.ChinaTime
	}
	// The default directory is the issued-cards table, which the store
	// reads together with the rest of a tap; a custom directory (tests)
	// is asked on its own.
	custom := cfg.Cards != nil
	if !custom {
		cfg.Cards = issuedCards{st: st}
	}
	return &Service{svc: svc, st: st, cfg: cfg, lookup: !custom, writer: st.CanWriteTap() && !custom}, nil
}

// issuedCards is the CardDirectory over the bank-issued cards table: a
// card's holder is its application's volunteer; a card that is blocked,
// replaced or cancelled, or whose block or replacement is pending at the
// bank, is blocked (CardRefused).
type issuedCards struct {
	st Store
}

// CardByPANToken implements CardDirectory.
func (d issuedCards) CardByPANToken(ctx context.Context, token []byte) (CardBinding, error) {
	c, err := d.st.GetCardByToken(ctx, token)
	if err != nil {
		return CardBinding{}, err
	}
	app, err := d.st.GetApplication(ctx, c.ApplicationID, issuance.Scope{})
	if err != nil {
		return CardBinding{}, fmt.Errorf("application of card: %w", err)
	}
	b := CardBinding{PANToken: token, VolunteerID: app.VolunteerID, PANLast4: c.LastFour, Expiry: c.Expiry,
		CreatedAt: c.CreatedAt}
	b.Status, b.Reason = DirectoryStatus(c.State, c.PendingChange)
	return b, nil
}

// DirectoryStatus is the check-in status of a bank-issued card in state st
// with change pending, and the reason when it is not active: an expired
// card is CardExpired, a closed card CardClosed, any other card check-in must refuse
// (issuance.CardRefused) CardBlocked. Every CardDirectory over the
// issued-cards table decides with it.
func DirectoryStatus(st issuance.BankCardState, pending issuance.CardChange) (CardStatus, string) {
	switch {
	case st == issuance.BankCardClosed:
		return CardClosed, "card closed at the bank"
	case st == issuance.BankCardExpired:
		return CardExpired, "card expired"
	case pending != "" && issuance.CardRefused(st, pending):
		return CardBlocked, "card " + string(pending) + " pending at the bank"
	case issuance.CardRefused(st, pending):
		return CardBlocked, "card " + string(st) + " at the bank"
	}
	return CardActive, ""
}

// Config returns the effective configuration (defaults filled in).
func (c *Service) Config() Config { return c.cfg }

// CardDirectory maps a PAN token to the card's holder. The issued-cards
// table (personalization, bank outbox) implements it.
type CardDirectory interface {
	// CardByPANToken returns the card or ErrNotFound.
	CardByPANToken(ctx context.Context, panToken []byte) (CardBinding, error)
}

// CardStatus is whether a card may be used at check-in.
type CardStatus string

// Card statuses.
const (
	CardActive  CardStatus = "active"
	CardBlocked CardStatus = "blocked"
	// CardExpired is a bank-issued card marked expired (the directory
	// only; check-in decides expiry by CardBinding.Expiry when known).
	CardExpired CardStatus = "expired"
	// CardClosed is a bank-issued card closed at the bank (the directory
	// only): refused for good.
	CardClosed CardStatus = "closed"
)

// CardBinding ties a card (by PAN token) to a volunteer.
type CardBinding struct {
	PANToken    []byte `json:"-"`
	VolunteerID int64  // 0 when blocked before it was ever bound
	PANLast4    string
	// Expiry is the card's expiry month, YYMM, when the directory knows it
	// (bank-issued cards); empty for check-in bindings.
	Expiry    string
	Status    CardStatus
	Reason    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ActivityRepo stores activities.
type ActivityRepo interface {
	CreateActivity(ctx context.Context, a *Activity) error
	// GetActivity returns the activity if its org lies inside sc.
	GetActivity(ctx context.Context, id int64, sc issuance.Scope) (Activity, error)
}

// ChallengeRepo stores terminal challenges.
type ChallengeRepo interface {
	PutChallenge(ctx context.Context, ch Challenge) error
	// ConsumeChallenge marks challenge id used at now when it was issued to
	// tokenID, is unused and unexpired, and returns it; otherwise it
	// returns ErrChallengeUnknown, ErrChallengeReplayed or
	// ErrChallengeExpired. It also deletes long-expired challenges now and
	// then.
	ConsumeChallenge(ctx context.Context, id string, tokenID int64, now time.Time) (Challenge, error)
}

// TapRepo stores taps, each with the attendance it opens or closes.
type TapRepo interface {
	// GetTap returns the tap of terminal with seq, or ErrNotFound.
	GetTap(ctx context.Context, terminalID string, seq int64) (TapRecord, error)
	// LastTapSeq returns the highest sequence number of terminal's taps,
	// 0 when it has none.
	LastTapSeq(ctx context.Context, terminalID string) (int64, error)
	// CreateTap inserts t; a duplicate (terminal, seq) is a *ConflictError
	// What "tap_sequence", a duplicate evidence hash What "tap_evidence".
	CreateTap(ctx context.Context, t *TapRecord) error
	// RecordTap writes a tap together with its attendance, in one
	// statement where the database allows: for a check-in it inserts a as
	// CreateAttendance does (setting a.ID); for a check-out it writes a's
	// OutAt and Minutes provided a is still open, else it fails with a
	// *ConflictError What "open_attendance". It then inserts t with
	// AttendanceID a.ID as CreateTap does (setting t.ID).
	RecordTap(ctx context.Context, a *Attendance, checkOut bool, t *TapRecord) error
}

// AttendanceRepo stores attendances (a volunteer's stay at an activity).
type AttendanceRepo interface {
	// OpenAttendance returns the attendance of the volunteer at the
	// activity that has no check-out yet, or ErrNotFound.
	OpenAttendance(ctx context.Context, activityID, volunteerID int64) (Attendance, error)
	// CreateAttendance inserts an open attendance; a second open one for
	// the same activity and volunteer is a *ConflictError What
	// "open_attendance".
	CreateAttendance(ctx context.Context, a *Attendance) error
	// UpdateAttendance writes InAt, OutAt, Minutes, Year and Corrected.
	UpdateAttendance(ctx context.Context, a Attendance) error
	// GetAttendance returns an attendance whose activity org lies in sc.
	GetAttendance(ctx context.Context, id int64, sc issuance.Scope) (Attendance, error)
	// ListAttendances returns a volunteer's attendances, newest first,
	// with the activity title and site.
	ListAttendances(ctx context.Context, volunteerID int64, limit int) ([]AttendanceView, error)
}

// TapLookup is what deciding a tap needs to know about a card, read in
// one go: its issued-card entry, its check-in binding, its holder and the
// holder's open attendance at the activity.
type TapLookup struct {
	// Directory is the card as the issued-cards directory knows it (as
	// CardDirectory.CardByPANToken returns it), nil when not issued.
	Directory *CardBinding
	// Binding is the check-in card binding, nil when there is none.
	Binding *CardBinding
	// Volunteer is the holder named by Directory, else by Binding; nil
	// when neither names one.
	Volunteer *issuance.Volunteer
	// Open is Volunteer's attendance at the activity that has no
	// check-out yet, nil when there is none.
	Open *Attendance
}

// TapLookupRepo is an optional capability of a Store that also
// holds the issued cards: it reads a TapLookup in one round trip instead
// of one per question. Checkin uses it when Config.Cards is left to
// its default.
type TapLookupRepo interface {
	LookupTap(ctx context.Context, panToken []byte, activityID int64) (TapLookup, error)
}

// ChallengeLookupRepo is an optional capability of a store with
// TapLookupRepo: it uses a challenge (as ChallengeRepo.ConsumeChallenge
// does, with the same errors) and reads the TapLookup in one round trip.
// The lookup is returned only when the challenge was used.
type ChallengeLookupRepo interface {
	ConsumeChallengeLookupTap(ctx context.Context, challengeID string, tokenID int64, now time.Time,
		panToken []byte, activityID int64) (Challenge, TapLookup, error)
}

// TapWriter is an optional capability of a Store: it writes a tap in one
// atomic statement, outside any transaction: the minutes added to the
// year's and the lifetime totals, the attendance opened or closed, and the
// tap row with the totals it left. It does arithmetic only: the star level
// and the tier are decided from the totals by the caller (StarsFor,
// TierFor), which stores a change of level with ChangeStars. CanWriteTap
// says whether the database can (PostgreSQL can, SQLite cannot).
type TapWriter interface {
	CanWriteTap() bool
	// WriteTap writes w. A closed attendance (concurrent tap or correction)
	// is a *ConflictError "open_attendance" and writes nothing; unique
	// violations are *ConflictError as for RecordTap.
	WriteTap(ctx context.Context, w TapWrite) (TapWritten, error)
}

// TapWrite is what TapWriter.WriteTap writes.
type TapWrite struct {
	// Attendance is the attendance to open (a check-in: ActivityID,
	// VolunteerID, OrgPath, InAt, Year) or to close (a check-out: ID,
	// VolunteerID, OutAt, Minutes, Year).
	Attendance Attendance
	CheckOut   bool
	// Tap is the tap row; its SessionMinutes are added to Attendance.Year's
	// total and to the lifetime total. The writer fills in its totals.
	Tap TapRecord
}

// TapWritten is what TapWriter.WriteTap wrote.
type TapWritten struct {
	// Tap is the tap row as written: TapWrite.Tap with its ID,
	// AttendanceID and the volunteer's totals (YearMinutes,
	// LifetimeMinutesBefore, LifetimeMinutes).
	Tap TapRecord
	// Stars is the star level stored with the lifetime total, which the
	// write leaves as it was.
	Stars int
}

// HoursRepo keeps the service-hour totals incrementally.
type HoursRepo interface {
	// AddMinutes adds delta to the volunteer's total of year and to the
	// lifetime total (year 0) and returns the new totals with the star
	// level stored on the lifetime row.
	AddMinutes(ctx context.Context, volunteerID int64, year int, delta int64) (HoursTotals, error)
	// ChangeStars stores ch.To as the star level of the volunteer's
	// lifetime row and appends ch.Event, both or neither, provided the
	// row still holds ch.From and ch.Lifetime minutes; it reports whether
	// it did. Of concurrent changes decided from the same row, at most one
	// is made.
	ChangeStars(ctx context.Context, ch StarsChange) (bool, error)
	// HoursByYear returns the volunteer's totals, year 0 (lifetime)
	// included, in year order.
	HoursByYear(ctx context.Context, volunteerID int64) ([]YearMinutes, error)
	// MemberMinutes returns every league or party member whose org path
	// starts with pathPrefix, with their minutes in year.
	MemberMinutes(ctx context.Context, pathPrefix string, year int) ([]MemberMinutes, error)
}

// HoursTotals are a volunteer's totals after AddMinutes.
type HoursTotals struct {
	Year     int64 // minutes in the year added to
	Lifetime int64 // lifetime minutes
	Stars    int   // star level stored with the lifetime total
}

// StarsChange is a change of the star level stored with a volunteer's
// lifetime total, decided from that total (StarsFor), and its audit event.
type StarsChange struct {
	VolunteerID int64
	From, To    int
	// Lifetime is the lifetime total in minutes To was decided from.
	Lifetime int64
	// Event is the stars_changed event recorded with the change.
	Event Event
}

// CardRepo stores the check-in card bindings.
type CardRepo interface {
	// GetCardBinding returns the binding of a PAN token, or ErrNotFound.
	GetCardBinding(ctx context.Context, panToken []byte) (CardBinding, error)
	// PutCardBinding inserts or updates the binding of b.PANToken.
	PutCardBinding(ctx context.Context, b CardBinding) error
	// CardBindingsOf returns the bindings of a volunteer's cards.
	CardBindingsOf(ctx context.Context, volunteerID int64) ([]CardBinding, error)
}

// OfferRepo stores benefit offers.
type OfferRepo interface {
	CreateOffer(ctx context.Context, o *Offer) error
	// ListOffers returns the offers of orgs whose path is one of orgPaths,
	// for one of tiers, withdrawn ones included, oldest first.
	ListOffers(ctx context.Context, orgPaths []string, tiers []BenefitTier) ([]Offer, error)
	// GetOffer returns the offer if its organisation lies inside sc, else
	// ErrNotFound; forUpdate locks it for the rest of the transaction.
	GetOffer(ctx context.Context, id int64, sc issuance.Scope, forUpdate bool) (Offer, error)
	// UpdateOffer stores o's tier, title, description, PIN requirement,
	// validity, withdrawal and UpdatedAt.
	UpdateOffer(ctx context.Context, o Offer) error
	// OffersUnder returns the offers of orgs whose path starts with
	// pathPrefix, withdrawn ones only when withdrawn is set, oldest first.
	OffersUnder(ctx context.Context, pathPrefix string, withdrawn bool) ([]Offer, error)
}

// EventRepo stores the audit events of check-in (corrections,
// added hours, blocked cards, star changes).
type EventRepo interface {
	AppendCheckinEvent(ctx context.Context, e *Event) error
	// ListCheckinEvents returns a volunteer's events (offer events aside).
	ListCheckinEvents(ctx context.Context, volunteerID int64) ([]Event, error)
	// ListOfferEvents returns the events of an offer, oldest first.
	ListOfferEvents(ctx context.Context, offerID int64) ([]Event, error)
}

// CoreReads are the reads of the core's records a tap needs: the holder
// (by id or by the blind index of the ID number on the card), the
// organisation of an activity, and the issued card with its application.
type CoreReads interface {
	GetOrg(ctx context.Context, id int64, sc issuance.Scope) (issuance.Org, error)
	GetVolunteer(ctx context.Context, id int64, sc issuance.Scope) (issuance.Volunteer, error)
	FindVolunteerByIndex(ctx context.Context, index []byte, sc issuance.Scope) (issuance.Volunteer, error)
	GetApplication(ctx context.Context, id int64, sc issuance.Scope) (issuance.Application, error)
	GetCardByToken(ctx context.Context, panToken []byte) (issuance.Card, error)
	// CardsOfVolunteer returns every card of a volunteer's applications,
	// oldest first.
	CardsOfVolunteer(ctx context.Context, volunteerID int64) ([]issuance.Card, error)
}

// Store is the storage check-in needs; issuance/store implements it on
// PostgreSQL and SQLite (a compile-time assertion there keeps it so).
type Store interface {
	issuance.Transactor
	CoreReads
	ActivityRepo
	ActivityLister
	ChallengeRepo
	TapRepo
	AttendanceRepo
	TapLookupRepo
	ChallengeLookupRepo
	TapWriter
	HoursRepo
	CardRepo
	OfferRepo
	RedemptionRepo
	EventRepo
}

// EventKind names a check-in audit event.
type EventKind string

// Check-in audit event kinds.
const (
	EventAttendanceCorrected EventKind = "attendance_corrected"
	EventHoursAdded          EventKind = "hours_added"
	EventCardBlocked         EventKind = "card_blocked"
	EventCardUnblocked       EventKind = "card_unblocked"
	EventStarsChanged        EventKind = "stars_changed"
	EventOfferCreated        EventKind = "offer_created"
	EventOfferChanged        EventKind = "offer_changed"
	EventOfferWithdrawn      EventKind = "offer_withdrawn"
)

// Event is one audit record of check-in: who did what, when and
// why. Detail is a short JSON document (before/after values); it never
// holds card data.
type Event struct {
	ID           int64
	Kind         EventKind
	VolunteerID  int64
	AttendanceID int64
	// OfferID is the offer an offer_* event is about.
	OfferID      int64
	ActorTokenID int64
	ActorRole    issuance.Role
	Reason       string
	Detail       string
	At           time.Time
}

// isNotFound reports whether err is the core's not-found.
func isNotFound(err error) bool { return errors.Is(err, issuance.ErrNotFound) }
