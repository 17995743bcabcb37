package checkin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/volcard/volcard/evidence"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// Challenge is a fresh unpredictable number handed to a terminal for one
// DDA: the card signs it, and the server accepts the signature once.
type Challenge struct {
	ID        string // opaque, URL-safe
	TokenID   int64  // terminal token it was issued to
	UN        []byte // 4 bytes, the DDA unpredictable number (9F37)
	IssuedAt  time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
}

// IssueChallenge returns a fresh challenge for a terminal, stored so that
// it can be used once before it expires. Roles: terminal (and system, for
// tools).
func (c *Service) IssueChallenge(ctx context.Context, a issuance.Actor) (Challenge, error) {
	if err := issuance.RequireRole(a, issuance.RoleTerminal, issuance.RoleSystem); err != nil {
		return Challenge{}, err
	}
	var b [20]byte
	if _, err := io.ReadFull(c.cfg.Rand, b[:]); err != nil {
		return Challenge{}, fmt.Errorf("issue challenge: %w", err)
	}
	now := c.svc.Now().UTC()
	ch := Challenge{ID: base64.RawURLEncoding.EncodeToString(b[:16]), TokenID: a.TokenID,
		UN: append([]byte(nil), b[16:]...), IssuedAt: now, ExpiresAt: now.Add(c.cfg.ChallengeTTL)}
	if err := c.st.PutChallenge(ctx, ch); err != nil {
		return Challenge{}, fmt.Errorf("issue challenge: %w", err)
	}
	return ch, nil
}

// TapKind is check-in or check-out.
type TapKind string

// Tap kinds.
const (
	TapIn  TapKind = "check_in"
	TapOut TapKind = "check_out"
)

// TapInput is one tap of a card at a terminal.
type TapInput struct {
	ActivityID int64
	// TerminalID identifies the terminal; the API sets it from the token,
	// so one terminal cannot use another's sequence numbers.
	TerminalID string
	// Seq is the terminal's sequence number, persisted by the terminal:
	// the same (TerminalID, Seq) returns the first result.
	Seq int64
	// ChallengeID names the server challenge used as the DDA unpredictable
	// number; empty for an offline tap.
	ChallengeID string
	// Offline marks a tap made while the server was unreachable: the
	// terminal used its own unpredictable number (or a challenge that has
	// since expired), At is when the tap happened, and the result is
	// marked offline_evidence.
	Offline bool
	// At is when an offline tap happened; ignored for online taps (the
	// server clock counts).
	At       time.Time
	Evidence evidence.Card
}

// TapResult is the decision on a tap, as the terminal is told it. It is
// built from the tap's record (Service.tapResult) when the tap is made and
// when it is replayed alike.
type TapResult struct {
	TapID           int64       `json:"tap_id"`
	Kind            TapKind     `json:"kind"`
	ActivityID      int64       `json:"activity_id"`
	ActivityTitle   string      `json:"activity_title"`
	VolunteerID     int64       `json:"volunteer_id"`
	VolunteerName   string      `json:"volunteer_name"`
	At              time.Time   `json:"at"`
	CheckedInAt     time.Time   `json:"checked_in_at"`
	SessionMinutes  int64       `json:"session_minutes"` // credited for this session (check-out)
	YearMinutes     int64       `json:"year_minutes"`    // the volunteer's total in the session's year
	LifetimeMinutes int64       `json:"lifetime_minutes"`
	Stars           int         `json:"stars"`        // the star level of LifetimeMinutes
	StarsBefore     int         `json:"stars_before"` // the star level of the lifetime total before the tap
	Tier            BenefitTier `json:"tier"`
	OfflineEvidence bool        `json:"offline_evidence"`
	// Replayed is true when this is the stored result of an earlier
	// request with the same terminal and sequence number.
	Replayed bool `json:"replayed"`
}

// TapRecord is a stored tap: the tap, what was decided, and the
// volunteer's totals it left, from which its result is built.
type TapRecord struct {
	ID              int64
	TerminalID      string
	Seq             int64
	ActivityID      int64
	VolunteerID     int64
	AttendanceID    int64
	Kind            TapKind
	At              time.Time
	OfflineEvidence bool
	PANToken        []byte
	Fingerprint     []byte // identifies the request, to tell a retry from a reused sequence
	EvidenceHash    []byte
	CreatedAt       time.Time

	// ActivityTitle and VolunteerName are as they were at the tap.
	ActivityTitle string
	VolunteerName string
	// CheckedInAt is when the attendance was opened (At for a check-in).
	CheckedInAt time.Time
	// SessionMinutes are the minutes a check-out credited (0 for a
	// check-in): what the tap added to the totals.
	SessionMinutes int64
	// YearMinutes is the volunteer's total in the session's year after the
	// tap; LifetimeMinutesBefore and LifetimeMinutes the lifetime total
	// before and after it. TapWriter.WriteTap sets them as it adds the
	// minutes; otherwise the caller does.
	YearMinutes           int64
	LifetimeMinutesBefore int64
	LifetimeMinutes       int64
}

// Attendance is one visit of a volunteer to an activity: checked in at
// InAt, checked out at OutAt (zero while open), Minutes credited, Year the
// year the minutes count for.
type Attendance struct {
	ID          int64
	ActivityID  int64
	VolunteerID int64
	OrgPath     string // the activity's org path
	InAt        time.Time
	OutAt       time.Time
	Minutes     int64
	Year        int
	Corrected   bool
}

// AttendanceView is an attendance with its activity's title and site.
type AttendanceView struct {
	Attendance
	Title string
	Site  string
}

// fingerprint identifies a tap request independently of transport.
func tapFingerprint(in TapInput) []byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(in.ActivityID))
	h.Write(b[:])
	h.Write([]byte(in.ChallengeID))
	h.Write([]byte{0})
	h.Write(in.Evidence.SDAD)
	return h.Sum(nil)
}

// Tap records a tap of a card at an activity: it checks the card evidence
// (certificate chain, PAN, signature over the challenge), maps the card to
// its volunteer, and checks the volunteer in, or out when checked in
// already, crediting the session's hours clipped to the activity window and
// rounded, updating the yearly totals and the star level. The same
// (TerminalID, Seq) returns the first result with Replayed set. Roles:
// terminal (activities in its scope), system.
//
// Errors: *ValidationError for malformed input; ErrChallengeUnknown,
// ErrChallengeExpired, ErrChallengeReplayed; *NotGenuineError
// (ErrCardNotGenuine); ErrCardUnknown; ErrCardBlocked; ErrCardClosed; ErrCardExpired; ErrEvidenceReplayed;
// ErrTapSequenceReused; ErrNotFound for an activity out of scope.
func (c *Service) Tap(ctx context.Context, a issuance.Actor, in TapInput) (TapResult, error) {
	if err := issuance.RequireRole(a, issuance.RoleTerminal, issuance.RoleSystem); err != nil {
		return TapResult{}, err
	}
	in.TerminalID = strings.TrimSpace(in.TerminalID)
	switch {
	case in.TerminalID == "" || len(in.TerminalID) > 64:
		return TapResult{}, issuance.Invalid("terminal_id", "required, at most 64 characters")
	case in.Seq <= 0:
		return TapResult{}, issuance.Invalid("seq", "must be a positive sequence number")
	case in.ActivityID <= 0:
		return TapResult{}, issuance.Invalid("activity_id", "required")
	case !in.Offline && in.ChallengeID == "":
		return TapResult{}, issuance.Invalid("challenge_id", "required for an online tap")
	case len(in.ChallengeID) > 64:
		return TapResult{}, issuance.Invalid("challenge_id", "too long")
	}
	fp := tapFingerprint(in)
	if in.Offline {
		// An offline tap has no challenge to tell a retry: look it up.
		if prev, err := c.replay(ctx, in, fp); err != nil || prev != nil {
			if prev != nil {
				return *prev, nil
			}
			return TapResult{}, err
		}
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return TapResult{}, err
	}
	sc.BankCode = ""
	act, err := c.activity(ctx, in.ActivityID, sc)
	if err != nil {
		return TapResult{}, fmt.Errorf("tap: activity %d: %w", in.ActivityID, err)
	}
	now := c.svc.Now().UTC()
	at := now
	var un []byte
	if in.Offline {
		if in.At.IsZero() {
			return TapResult{}, issuance.Invalid("at", "required for an offline tap")
		}
		at = in.At.UTC()
		if at.After(now.Add(5*time.Minute)) || at.Before(now.Add(-c.cfg.MaxOfflineAge)) {
			return TapResult{}, issuance.Invalid("at", "offline tap time out of range")
		}
	} else if !c.lookup {
		ch, err := c.st.ConsumeChallenge(ctx, in.ChallengeID, a.TokenID, now)
		if err != nil {
			return c.challengeFailed(ctx, in, fp, err)
		}
		un = ch.UN
	}
	// With challengeLookup the challenge is used together with the card
	// lookup, after the card verified; the signature is then checked to be
	// over that challenge.
	card, err := c.verifyCard(ctx, in.Evidence, un, now, at)
	if err != nil {
		return TapResult{}, fmt.Errorf("tap: %w", err)
	}
	token := c.svc.PANToken(card.PAN)
	var vol issuance.Volunteer
	var prefetched *Attendance
	if !in.Offline && c.lookup {
		var ch Challenge
		var l TapLookup
		ch, l, err = c.st.ConsumeChallengeLookupTap(ctx, in.ChallengeID, a.TokenID, now, token, act.ID)
		if err != nil {
			return c.challengeFailed(ctx, in, fp, err)
		}
		if !bytes.Equal(card.UN, ch.UN) {
			return TapResult{}, fmt.Errorf("tap: %w", &NotGenuineError{Cause: errNotOverChallenge})
		}
		vol, prefetched, err = c.holderFromLookup(ctx, token, card, l, at)
	} else {
		vol, prefetched, err = c.tapHolder(ctx, token, card, act.ID, at)
	}
	if err != nil {
		return TapResult{}, fmt.Errorf("tap: %w", err)
	}

	var res TapResult
	if c.writer && prefetched != nil {
		res, err = c.writeTap(ctx, a, in, act, vol, *prefetched, at, now, token, fp, card.SignatureHash)
	} else {
		res, err = c.recordTap(ctx, a, in, act, vol, prefetched, at, now, token, fp, card.SignatureHash)
	}
	if err != nil {
		var ce *issuance.ConflictError
		if errors.As(err, &ce) {
			switch ce.What {
			case "tap_sequence":
				if prev, rerr := c.replay(ctx, in, fp); rerr != nil || prev != nil {
					if prev != nil {
						return *prev, nil
					}
					return TapResult{}, rerr
				}
			case "tap_evidence":
				return TapResult{}, fmt.Errorf("tap: %w", ErrEvidenceReplayed)
			case "open_attendance":
				return TapResult{}, fmt.Errorf("tap: concurrent taps of one card: %w", issuance.ErrConflict)
			}
		}
		return TapResult{}, fmt.Errorf("tap: %w", err)
	}
	return res, nil
}

// LastTapSeq returns the highest sequence number recorded for a terminal
// (0 when none): a terminal that starts with a new queue file, or that finds
// its number taken by another terminal on the same token, resumes after it.
// Roles: terminal, system.
func (c *Service) LastTapSeq(ctx context.Context, a issuance.Actor, terminalID string) (int64, error) {
	if err := issuance.RequireRole(a, issuance.RoleTerminal, issuance.RoleSystem); err != nil {
		return 0, err
	}
	terminalID = strings.TrimSpace(terminalID)
	if terminalID == "" || len(terminalID) > 64 {
		return 0, issuance.Invalid("terminal_id", "required, at most 64 characters")
	}
	seq, err := c.st.LastTapSeq(ctx, terminalID)
	if err != nil {
		return 0, fmt.Errorf("last tap sequence: %w", err)
	}
	return seq, nil
}

// tapResult is the result of the tap r records: the one place a tap's star
// levels and tier are decided (from r's lifetime totals, by StarsFor and
// TierFor), for a fresh tap and its replays alike, on every store.
func (c *Service) tapResult(r TapRecord) TapResult {
	stars := c.Stars(r.LifetimeMinutes)
	return TapResult{TapID: r.ID, Kind: r.Kind, ActivityID: r.ActivityID, ActivityTitle: r.ActivityTitle,
		VolunteerID: r.VolunteerID, VolunteerName: r.VolunteerName, At: r.At, CheckedInAt: r.CheckedInAt,
		SessionMinutes: r.SessionMinutes, YearMinutes: r.YearMinutes, LifetimeMinutes: r.LifetimeMinutes,
		Stars: stars, StarsBefore: c.Stars(r.LifetimeMinutesBefore), Tier: c.tier(stars),
		OfflineEvidence: r.OfflineEvidence}
}

// decideTap decides a tap at time at by the volunteer's open attendance at
// the activity (nil when none): a check-out closes open and credits its
// minutes, else a check-in opens a new attendance. It returns the
// attendance to write and the tap record without ids and totals.
func (c *Service) decideTap(in TapInput, act Activity, vol issuance.Volunteer, open *Attendance,
	at, now time.Time, token, fp, evidenceHash []byte) (Attendance, bool, TapRecord) {
	rec := TapRecord{TerminalID: in.TerminalID, Seq: in.Seq, ActivityID: act.ID, VolunteerID: vol.ID, At: at,
		OfflineEvidence: in.Offline, PANToken: token, Fingerprint: fp, EvidenceHash: evidenceHash, CreatedAt: now,
		ActivityTitle: act.Title, VolunteerName: vol.Name}
	if open == nil {
		rec.Kind, rec.CheckedInAt = TapIn, at
		return Attendance{ActivityID: act.ID, VolunteerID: vol.ID, OrgPath: act.OrgPath, InAt: at,
			Year: at.In(c.cfg.Location).Year()}, false, rec
	}
	att := *open
	att.OutAt = at
	if att.OutAt.Before(att.InAt) {
		att.OutAt = att.InAt
	}
	att.Minutes = credit(act, att.InAt, att.OutAt, c.cfg.Rounding)
	rec.Kind, rec.CheckedInAt, rec.SessionMinutes = TapOut, att.InAt, att.Minutes
	return att, true, rec
}

// writeTap decides a tap whose holder and open attendance (open.ID 0 when
// none) were read by the lookup, and writes it with the store's TapWriter in
// one statement: no transaction round trips. Only when the star level
// changes does a second statement store it (settleStars).
func (c *Service) writeTap(ctx context.Context, a issuance.Actor, in TapInput, act Activity, vol issuance.Volunteer, open Attendance,
	at, now time.Time, token, fp, evidenceHash []byte) (TapResult, error) {
	var cur *Attendance
	if open.ID != 0 {
		cur = &open
	}
	att, checkOut, rec := c.decideTap(in, act, vol, cur, at, now, token, fp, evidenceHash)
	out, err := c.st.WriteTap(ctx, TapWrite{Attendance: att, CheckOut: checkOut, Tap: rec})
	if err != nil {
		return TapResult{}, err
	}
	// The tap is written; should this fail, a retry is answered from the
	// tap row and the next write of the volunteer's hours settles the level.
	if err := c.settleStars(ctx, a, vol.ID, out.Stars, out.Tap.LifetimeMinutes); err != nil {
		return TapResult{}, err
	}
	return c.tapResult(out.Tap), nil
}

// recordTap decides a tap and writes it in a transaction, statement by
// statement: the hours totals (and star level), then the attendance and the
// tap. prefetched is the open attendance read by the lookup (ID 0 when none),
// nil when it was not read.
func (c *Service) recordTap(ctx context.Context, a issuance.Actor, in TapInput, act Activity, vol issuance.Volunteer, prefetched *Attendance,
	at, now time.Time, token, fp, evidenceHash []byte) (TapResult, error) {
	var res TapResult
	err := c.st.InTx(ctx, func(ctx context.Context) error {
		var open Attendance
		var err error
		if prefetched != nil {
			open = *prefetched
			if open.ID == 0 {
				err = issuance.ErrNotFound
			}
		} else {
			open, err = c.st.OpenAttendance(ctx, act.ID, vol.ID)
		}
		var cur *Attendance
		switch {
		case err == nil:
			cur = &open
		case !isNotFound(err):
			return err
		}
		att, checkOut, rec := c.decideTap(in, act, vol, cur, at, now, token, fp, evidenceHash)
		// The totals are updated first (the tap row carries them), then
		// the attendance and the tap are written together. Every writer
		// takes the hours rows before the attendance rows.
		h, err := c.addMinutes(ctx, a, vol.ID, att.Year, rec.SessionMinutes)
		if err != nil {
			return err
		}
		rec.YearMinutes, rec.LifetimeMinutesBefore, rec.LifetimeMinutes = h.Year, h.Lifetime-rec.SessionMinutes, h.Lifetime
		if err := c.st.RecordTap(ctx, &att, checkOut, &rec); err != nil {
			return err
		}
		res = c.tapResult(rec)
		return nil
	})
	return res, err
}

// challengeFailed answers a tap whose challenge could not be used (err):
// a retry of a recorded tap gets its first result; anything else with a
// used challenge is a replay.
func (c *Service) challengeFailed(ctx context.Context, in TapInput, fp []byte, err error) (TapResult, error) {
	if errors.Is(err, ErrChallengeReplayed) {
		if prev, rerr := c.replay(ctx, in, fp); prev != nil || rerr != nil {
			if prev != nil {
				return *prev, nil
			}
			if errors.Is(rerr, ErrTapSequenceReused) {
				return TapResult{}, fmt.Errorf("tap: %w", err)
			}
			return TapResult{}, rerr
		}
	}
	return TapResult{}, fmt.Errorf("tap: %w", err)
}

// activity returns an activity inside sc, from memory when seen before
// (activities do not change once created).
func (c *Service) activity(ctx context.Context, id int64, sc issuance.Scope) (Activity, error) {
	if v, ok := c.activities.Load(id); ok {
		act := v.(Activity)
		if !sc.Contains(act.OrgPath, "") {
			return Activity{}, issuance.ErrNotFound
		}
		return act, nil
	}
	act, err := c.st.GetActivity(ctx, id, issuance.Scope{})
	if err != nil {
		return Activity{}, err
	}
	c.activities.Store(id, act)
	if !sc.Contains(act.OrgPath, "") {
		return Activity{}, issuance.ErrNotFound
	}
	return act, nil
}

// replay returns the stored result of an earlier tap with the same
// terminal and sequence number, nil when there is none, or
// ErrTapSequenceReused when that tap was a different one.
func (c *Service) replay(ctx context.Context, in TapInput, fp []byte) (*TapResult, error) {
	prev, err := c.st.GetTap(ctx, in.TerminalID, in.Seq)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	if !bytes.Equal(prev.Fingerprint, fp) {
		return nil, fmt.Errorf("tap: %w", ErrTapSequenceReused)
	}
	res := c.tapResult(prev)
	res.Replayed = true
	return &res, nil
}

// tapHolder is cardHolder for a tap at an activity. When the store can
// read the card, its holder and the holder's open attendance at once
// (TapLookupRepo), it does so and also returns that attendance (ID 0 when
// none is open); otherwise the attendance is nil and left to the caller.
func (c *Service) tapHolder(ctx context.Context, token []byte, card evidence.Identity, activityID int64, at time.Time) (issuance.Volunteer, *Attendance, error) {
	if !c.lookup {
		v, err := c.cardHolder(ctx, token, card, at)
		return v, nil, err
	}
	l, err := c.st.LookupTap(ctx, token, activityID)
	if err != nil {
		return issuance.Volunteer{}, nil, fmt.Errorf("card lookup: %w", err)
	}
	return c.holderFromLookup(ctx, token, card, l, at)
}

// holderFromLookup finishes tapHolder once the lookup l is read.
func (c *Service) holderFromLookup(ctx context.Context, token []byte, card evidence.Identity, l TapLookup, at time.Time) (issuance.Volunteer, *Attendance, error) {
	b, found := pickBinding(l.Directory, l.Binding)
	if found && b.Status == CardClosed {
		return issuance.Volunteer{}, nil, ErrCardClosed
	}
	if found && b.Status == CardBlocked {
		return issuance.Volunteer{}, nil, ErrCardBlocked
	}
	if cardExpired(b, found, at) {
		return issuance.Volunteer{}, nil, ErrCardExpired
	}
	if found && b.VolunteerID != 0 && l.Volunteer != nil && l.Volunteer.ID == b.VolunteerID {
		open := &Attendance{}
		if l.Open != nil {
			open = l.Open
		}
		return *l.Volunteer, open, nil
	}
	v, err := c.holderOf(ctx, token, card, b, found, at)
	return v, nil, err
}

// pickBinding chooses the binding that decides a card: the directory's,
// unless it is blocked or absent, in which case a check-in binding may
// stand in (a block recorded at check-in applies even to directory cards).
func pickBinding(dir, local *CardBinding) (CardBinding, bool) {
	var b CardBinding
	found := false
	if dir != nil {
		b, found = *dir, true
	}
	if (!found || b.Status == CardBlocked) && local != nil && (!found || local.Status == CardBlocked) {
		b, found = *local, true
	}
	return b, found
}

// cardHolder maps a verified card to its volunteer: the card directory
// (issued cards) first, then the check-in bindings, then the ID number on
// the card through the volunteer blind index, remembering the binding.
func (c *Service) cardHolder(ctx context.Context, token []byte, card evidence.Identity, at time.Time) (issuance.Volunteer, error) {
	var dir, local *CardBinding
	if c.cfg.Cards != nil {
		b, err := c.cfg.Cards.CardByPANToken(ctx, token)
		if err != nil && !isNotFound(err) {
			return issuance.Volunteer{}, fmt.Errorf("card directory: %w", err)
		}
		if err == nil {
			dir = &b
		}
	}
	if dir == nil || dir.Status == CardBlocked {
		lb, err := c.st.GetCardBinding(ctx, token)
		if err != nil && !isNotFound(err) {
			return issuance.Volunteer{}, err
		}
		if err == nil {
			local = &lb
		}
	}
	b, found := pickBinding(dir, local)
	return c.holderOf(ctx, token, card, b, found, at)
}

// holderOf finishes cardHolder once the deciding binding b (if found) is
// known: a blocked card is refused, a bound card's volunteer is read, an
// unbound card is matched by the ID number it carries and bound.
func (c *Service) holderOf(ctx context.Context, token []byte, card evidence.Identity, b CardBinding, found bool, at time.Time) (issuance.Volunteer, error) {
	if found && b.Status == CardClosed {
		return issuance.Volunteer{}, ErrCardClosed
	}
	if found && b.Status == CardBlocked {
		return issuance.Volunteer{}, ErrCardBlocked
	}
	if cardExpired(b, found, at) {
		return issuance.Volunteer{}, ErrCardExpired
	}
	if found && b.VolunteerID != 0 {
		v, err := c.st.GetVolunteer(ctx, b.VolunteerID, issuance.Scope{})
		if err != nil {
			return issuance.Volunteer{}, fmt.Errorf("card holder: %w", err)
		}
		return v, nil
	}
	if card.IDNumber == "" {
		return issuance.Volunteer{}, ErrCardUnknown
	}
	v, err := c.st.FindVolunteerByIndex(ctx, c.svc.IDIndex(card.IDNumber), issuance.Scope{})
	if isNotFound(err) {
		return issuance.Volunteer{}, ErrCardUnknown
	}
	if err != nil {
		return issuance.Volunteer{}, fmt.Errorf("card holder: %w", err)
	}
	now := c.svc.Now().UTC()
	last4 := card.PAN[len(card.PAN)-4:]
	if err := c.st.PutCardBinding(ctx, CardBinding{PANToken: token, VolunteerID: v.ID, PANLast4: last4,
		Status: CardActive, CreatedAt: now, UpdatedAt: now}); err != nil {
		return issuance.Volunteer{}, fmt.Errorf("bind card: %w", err)
	}
	return v, nil
}

// emvPAN validates a PAN given in clear: 12–19 digits.
func emvPAN(pan string) (string, error) {
	p := strings.TrimSpace(pan)
	if len(p) < 12 || len(p) > 19 || strings.Trim(p, "0123456789") != "" {
		return "", issuance.Invalid("pan", "must be 12 to 19 digits")
	}
	return p, nil
}

// maskedName is the name shown to merchants.
func maskedName(name string) string { return pii.MaskName(name) }
