package checkin_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/issuancetest"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/evidence"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// cst is China Standard Time, the default year boundary of service hours.
var cst = time.FixedZone("CST", 8*3600)

// defaultCardID is the ID number (9F61) on testdata/cards/default.json and
// forged.json; defaultCardPAN its PAN.
const (
	defaultCardID  = "441402200001011232"
	defaultCardPAN = "6217850000000012349"
)

func cardPath(name string) string { return filepath.Join("..", "..", "testdata", "cards", name) }

func caKeys(t testing.TB) emv.CAKeys {
	t.Helper()
	k, err := emv.LoadCAKeys(filepath.Join("..", "..", "testdata", "keys", "ca-public.json"))
	require.NoError(t, err)
	return k
}

// tapEvidence reads a software card as a terminal does (fast read without
// ODA, then INTERNAL AUTHENTICATE over un) and returns the evidence.
func tapEvidence(t testing.TB, image string, un []byte) evidence.Card {
	t.Helper()
	ctx := context.Background()
	card, err := cardsim.Load(cardPath(image))
	require.NoError(t, err)
	conn, err := cardsim.NewReaders(card).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	f, err := emv.Read(ctx, conn, emv.Options{Fast: true, SkipODA: true})
	require.NoError(t, err)
	ddol := emv.DefaultDDOL
	if raw, ok := f.Tag("9F49"); ok {
		ddol, err = cardio.ParseDOL(raw)
		require.NoError(t, err)
	}
	data := ddol.Build(map[string][]byte{"9F37": un})
	sdad, err := emv.InternalAuthenticate(ctx, conn, data)
	require.NoError(t, err)
	return evidence.Card{AID: f.AID, PAN: f.PAN.Digits(), AIP: f.AIP[:], AFL: cardio.EncodeAFL(f.AFL),
		Records: f.Records(), DDOLData: data, SDAD: sdad}
}

// checkinFixture adds check-in to the issuance fixture: an activity in
// Meizhou from 09:00 to 12:00 CST, a Meizhou terminal and the holder of the
// default card (张晓明, league member).
type checkinFixture struct {
	*issuancetest.Fixture
	ck       *checkin.Service
	terminal issuance.Actor
	act      checkin.Activity
	holder   issuance.Volunteer
	seq      int64
}

func newCheckinFixture(t *testing.T, st *store.Store, cfg checkin.Config) *checkinFixture {
	t.Helper()
	ctx := context.Background()
	f := issuancetest.New(t, st)
	cfg.Verifier = emv.EvidenceVerifier{CAs: caKeys(t)}
	ck, err := checkin.New(f.Svc, f.St, cfg)
	require.NoError(t, err)
	cf := &checkinFixture{Fixture: f, ck: ck}
	cf.terminal = f.Token(t, issuance.NewToken{Name: "gate 1", Role: issuance.RoleTerminal, OrgID: f.Meizhou.ID})
	cf.act, err = ck.CreateActivity(ctx, f.MzAdmin, checkin.NewActivity{OrgID: f.Meizhou.ID, Title: "客天下景区志愿服务",
		Site: "梅江区客天下", StartsAt: time.Date(2026, 11, 23, 9, 0, 0, 0, cst), EndsAt: time.Date(2026, 11, 23, 12, 0, 0, 0, cst)})
	require.NoError(t, err)
	cf.holder, err = f.Svc.RegisterVolunteer(ctx, f.Sys, issuance.NewVolunteer{OrgID: f.Meizhou.ID, Name: "张晓明",
		IDNumber: defaultCardID, Phone: "13812345678", LeagueMember: true})
	require.NoError(t, err)
	return cf
}

// at sets the clock to hh:mm CST on the activity day.
func (cf *checkinFixture) at(hh, mm int) { cf.Clock.T = time.Date(2026, 11, 23, hh, mm, 0, 0, cst) }

// tap taps image online with a fresh challenge.
func (cf *checkinFixture) tap(t *testing.T, image string) (checkin.TapResult, error) {
	t.Helper()
	ch, err := cf.ck.IssueChallenge(context.Background(), cf.terminal)
	require.NoError(t, err)
	cf.seq++
	return cf.ck.Tap(context.Background(), cf.terminal, checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1",
		Seq: cf.seq, ChallengeID: ch.ID, Evidence: tapEvidence(t, image, ch.UN)})
}

func TestRounding(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    checkin.Rounding
		d    time.Duration
		want int64
	}{
		{"minute down", checkin.Rounding{Unit: time.Minute, Mode: checkin.RoundDown}, 158*time.Minute + 59*time.Second, 158},
		{"quarter down", checkin.Rounding{Unit: 15 * time.Minute, Mode: checkin.RoundDown}, 158 * time.Minute, 150},
		{"half hour down", checkin.Rounding{Unit: 30 * time.Minute, Mode: checkin.RoundDown}, 89 * time.Minute, 60},
		{"quarter nearest up", checkin.Rounding{Unit: 15 * time.Minute, Mode: checkin.RoundNearest}, 158 * time.Minute, 165},
		{"quarter nearest down", checkin.Rounding{Unit: 15 * time.Minute, Mode: checkin.RoundNearest}, 157 * time.Minute, 150},
		{"quarter up", checkin.Rounding{Unit: 15 * time.Minute, Mode: checkin.RoundUp}, 151 * time.Minute, 165},
		{"negative", checkin.DefaultRounding, -time.Hour, 0},
		{"zero", checkin.DefaultRounding, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.r.Minutes(tc.d))
		})
	}
}

func TestStarsAndTiers(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hours float64
		stars int
		tier  checkin.BenefitTier
	}{
		{"none", 0, 0, checkin.TierCardHolder},
		{"just below one star", 99.99, 0, checkin.TierCardHolder},
		{"one star", 100, 1, checkin.TierStar},
		{"three stars", 600, 3, checkin.TierStar},
		{"four stars", 1499, 4, checkin.TierStar},
		{"five stars", 1500, 5, checkin.TierFiveStar},
		{"beyond", 9000, 5, checkin.TierFiveStar},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := checkin.StarsFor(int64(tc.hours*60+0.5), checkin.DefaultStarThresholds)
			require.Equal(t, tc.stars, s)
			require.Equal(t, tc.tier, checkin.TierFor(s, 5))
		})
	}
}

func TestNewCheckinValidates(t *testing.T) {
	f := issuancetest.New(t, storetest.SQLite(t))
	for _, tc := range []struct {
		name string
		cfg  checkin.Config
	}{
		{"decreasing thresholds", checkin.Config{StarThresholds: []float64{100, 50}}},
		{"seconds unit", checkin.Config{Rounding: checkin.Rounding{Unit: 90 * time.Second, Mode: checkin.RoundDown}}},
		{"bad mode", checkin.Config{Rounding: checkin.Rounding{Unit: time.Minute, Mode: "sideways"}}},
		{"short challenge", checkin.Config{ChallengeTTL: time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkin.New(f.Svc, f.St, tc.cfg)
			require.Error(t, err)
		})
	}
}

func TestTapInOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{Rounding: checkin.Rounding{Unit: 15 * time.Minute, Mode: checkin.RoundDown}})

		cf.at(8, 50) // before the activity starts: hours count from 09:00
		in, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapIn, in.Kind)
		require.Equal(t, "张晓明", in.VolunteerName)
		require.Equal(t, cf.holder.ID, in.VolunteerID)
		require.False(t, in.OfflineEvidence)

		cf.at(11, 38)
		out, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapOut, out.Kind)
		require.Equal(t, int64(150), out.SessionMinutes, "09:00–11:38 is 158 min, down to the quarter: 150")
		require.Equal(t, int64(150), out.YearMinutes)
		require.Equal(t, int64(150), out.LifetimeMinutes)
		require.Equal(t, 0, out.Stars)
		require.Equal(t, checkin.TierCardHolder, out.Tier)

		// A third tap checks in again; leaving after the end is clipped.
		cf.at(11, 50)
		again, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapIn, again.Kind)
		cf.at(13, 0)
		out2, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, int64(0), out2.SessionMinutes, "11:50–12:00 is 10 min, down to the quarter: 0")

		rec, err := cf.ck.ServiceRecord(ctx, cf.MzAdmin, cf.holder.ID)
		require.NoError(t, err)
		require.Equal(t, []checkin.YearMinutes{{Year: 2026, Minutes: 150}}, rec.Years)
		require.Len(t, rec.Attendances, 2)
		require.Equal(t, "客天下景区志愿服务", rec.Attendances[0].Title)
		require.Equal(t, float64(checkin.DefaultMemberExpectation), rec.MemberExpectation)

		_, err = cf.ck.ServiceRecord(ctx, cf.GzAdmin, cf.holder.ID)
		require.ErrorIs(t, err, issuance.ErrNotFound, "another city's admin does not see the record")
	})
}

func TestTapIdempotentBySequence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		cf.at(9, 0)
		ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
		require.NoError(t, err)
		in := checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: 7, ChallengeID: ch.ID,
			Evidence: tapEvidence(t, "default.json", ch.UN)}
		first, err := cf.ck.Tap(ctx, cf.terminal, in)
		require.NoError(t, err)
		again, err := cf.ck.Tap(ctx, cf.terminal, in)
		require.NoError(t, err)
		require.True(t, again.Replayed)
		again.Replayed = false
		require.Empty(t, cmp.Diff(first, again))

		// Another tap under the same sequence number is refused.
		ch2, err := cf.ck.IssueChallenge(ctx, cf.terminal)
		require.NoError(t, err)
		_, err = cf.ck.Tap(ctx, cf.terminal, checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: 7,
			ChallengeID: ch2.ID, Evidence: tapEvidence(t, "default.json", ch2.UN)})
		require.ErrorIs(t, err, checkin.ErrTapSequenceReused)
	})
}

func TestTapRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{ChallengeTTL: time.Minute})
		cf.at(9, 0)
		tapWith := func(seq int64, chID string, ev evidence.Card) error {
			_, err := cf.ck.Tap(ctx, cf.terminal, checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: seq,
				ChallengeID: chID, Evidence: ev})
			return err
		}

		t.Run("replayed challenge", func(t *testing.T) {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			ev := tapEvidence(t, "default.json", ch.UN)
			require.NoError(t, tapWith(100, ch.ID, ev))
			require.ErrorIs(t, tapWith(101, ch.ID, ev), checkin.ErrChallengeReplayed)
		})
		t.Run("expired challenge", func(t *testing.T) {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			cf.Clock.T = cf.Clock.T.Add(2 * time.Minute)
			require.ErrorIs(t, tapWith(102, ch.ID, tapEvidence(t, "default.json", ch.UN)), checkin.ErrChallengeExpired)
		})
		t.Run("unknown challenge", func(t *testing.T) {
			require.ErrorIs(t, tapWith(103, "nope", tapEvidence(t, "default.json", []byte{1, 2, 3, 4})), checkin.ErrChallengeUnknown)
		})
		t.Run("another terminal's challenge", func(t *testing.T) {
			other := cf.Token(t, issuance.NewToken{Role: issuance.RoleTerminal, OrgID: cf.Meizhou.ID})
			ch, err := cf.ck.IssueChallenge(ctx, other)
			require.NoError(t, err)
			require.ErrorIs(t, tapWith(104, ch.ID, tapEvidence(t, "default.json", ch.UN)), checkin.ErrChallengeUnknown)
		})
		t.Run("signature over another number", func(t *testing.T) {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			un := append([]byte(nil), ch.UN...)
			un[0] ^= 0xFF
			require.ErrorIs(t, tapWith(105, ch.ID, tapEvidence(t, "default.json", un)), checkin.ErrCardNotGenuine)
		})
		t.Run("forged card", func(t *testing.T) {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			err = tapWith(106, ch.ID, tapEvidence(t, "forged.json", ch.UN))
			require.ErrorIs(t, err, checkin.ErrCardNotGenuine)
			require.ErrorIs(t, err, emv.ErrSignature)
			var ng *checkin.NotGenuineError
			require.ErrorAs(t, err, &ng)
			require.NotContains(t, err.Error(), defaultCardPAN)
		})
		t.Run("tampered record", func(t *testing.T) {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			ev := tapEvidence(t, "default.json", ch.UN)
			raw := append([]byte(nil), ev.Records[0].Raw...)
			raw[len(raw)-1] ^= 0x01 // inside the signed cardholder record
			ev.Records[0].Raw = raw
			err = tapWith(107, ch.ID, ev)
			require.ErrorIs(t, err, checkin.ErrCardNotGenuine)
			require.ErrorIs(t, err, emv.ErrICCCertificate)
		})
		t.Run("PAN not the card's", func(t *testing.T) {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			ev := tapEvidence(t, "default.json", ch.UN)
			ev.PAN = "6217850000000099999"
			require.ErrorIs(t, tapWith(108, ch.ID, ev), issuance.ErrInvalid)
		})
		t.Run("unknown card", func(t *testing.T) {
			cf2 := newCheckinFixture(t, storetest.SQLite(t), checkin.Config{})
			cf2.at(9, 0)
			// Nobody with the card's ID number in this database.
			ctx := context.Background()
			ch, err := cf2.ck.IssueChallenge(ctx, cf2.terminal)
			require.NoError(t, err)
			ev := tapEvidence(t, "pse-only.json", ch.UN)
			_, err = cf2.ck.Tap(ctx, cf2.terminal, checkin.TapInput{ActivityID: cf2.act.ID, TerminalID: "T1", Seq: 1,
				ChallengeID: ch.ID, Evidence: ev})
			require.ErrorIs(t, err, checkin.ErrCardUnknown)
		})
		t.Run("blocked card", func(t *testing.T) {
			require.NoError(t, cf.ck.BlockCard(ctx, cf.MzAdmin, defaultCardPAN, "reported lost"))
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			require.ErrorIs(t, tapWith(109, ch.ID, tapEvidence(t, "default.json", ch.UN)), checkin.ErrCardBlocked)
			evs, err := cf.ck.Events(ctx, cf.MzAdmin, cf.holder.ID)
			require.NoError(t, err)
			require.Equal(t, checkin.EventCardBlocked, evs[len(evs)-1].Kind)
			require.NotContains(t, evs[len(evs)-1].Detail, defaultCardPAN)
		})
		t.Run("activity out of the terminal's scope", func(t *testing.T) {
			gzTerm := cf.Token(t, issuance.NewToken{Role: issuance.RoleTerminal, OrgID: cf.Guangzhou.ID})
			ch, err := cf.ck.IssueChallenge(ctx, gzTerm)
			require.NoError(t, err)
			_, err = cf.ck.Tap(ctx, gzTerm, checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "G1", Seq: 1,
				ChallengeID: ch.ID, Evidence: tapEvidence(t, "default.json", ch.UN)})
			require.ErrorIs(t, err, issuance.ErrNotFound)
		})
		t.Run("wrong role", func(t *testing.T) {
			_, err := cf.ck.IssueChallenge(ctx, cf.MzAdmin)
			require.ErrorIs(t, err, issuance.ErrForbidden)
		})
	})
}

func TestOfflineTap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		cf.at(14, 0)                                                         // synced in the afternoon
		ev := tapEvidence(t, "default.json", []byte{0xCA, 0xFE, 0xBA, 0xBE}) // the terminal's own UN
		in := checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: 1, Offline: true,
			At: time.Date(2026, 11, 23, 9, 15, 0, 0, cst), Evidence: ev}
		res, err := cf.ck.Tap(ctx, cf.terminal, in)
		require.NoError(t, err)
		require.True(t, res.OfflineEvidence)
		require.Equal(t, checkin.TapIn, res.Kind)
		require.True(t, res.At.Equal(in.At))

		in.Seq = 2 // the same signed data again under another sequence
		_, err = cf.ck.Tap(ctx, cf.terminal, in)
		require.ErrorIs(t, err, checkin.ErrEvidenceReplayed)

		in.At = cf.Clock.Now().Add(time.Hour)
		in.Seq = 3
		_, err = cf.ck.Tap(ctx, cf.terminal, in)
		require.ErrorIs(t, err, issuance.ErrInvalid, "offline taps from the future are refused")
	})
}

func TestStarThresholdCrossing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.MzAdmin, cf.holder.ID, 2025, 99, "hours on i志愿 before the card"))
		cf.at(9, 0)
		in, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, 0, in.Stars)
		cf.at(10, 30)
		out, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, int64(90), out.SessionMinutes)
		require.Equal(t, int64(99*60+90), out.LifetimeMinutes)
		require.Equal(t, 1, out.Stars)
		require.Equal(t, 0, out.StarsBefore)
		require.Equal(t, checkin.TierStar, out.Tier)

		// Five-star at 1500 h.
		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, cf.holder.ID, 2024, 1400, "import"))
		rec, err := cf.ck.ServiceRecord(ctx, cf.Sys, cf.holder.ID)
		require.NoError(t, err)
		require.Equal(t, 5, rec.Stars)
		require.Equal(t, checkin.TierFiveStar, rec.Tier)
		require.Equal(t, []checkin.YearMinutes{{Year: 2024, Minutes: 1400 * 60}, {Year: 2025, Minutes: 99 * 60}, {Year: 2026, Minutes: 90}}, rec.Years)

		evs, err := cf.ck.Events(ctx, cf.Sys, cf.holder.ID)
		require.NoError(t, err)
		var changes []string
		for _, e := range evs {
			if e.Kind == checkin.EventStarsChanged {
				var d struct{ From, To int }
				require.NoError(t, json.Unmarshal([]byte(e.Detail), &d))
				changes = append(changes, string(rune('0'+d.From))+"→"+string(rune('0'+d.To)))
			}
		}
		require.Equal(t, []string{"0→1", "1→5"}, changes)

		_, err = cf.ck.ServiceRecord(ctx, cf.Sys, cf.holder.ID)
		require.NoError(t, err)
		require.Error(t, cf.ck.AddServiceHours(ctx, cf.Sys, cf.holder.ID, 2025, -100, "too much"), "a year's total cannot go negative")
	})
}

func TestCorrection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		cf.at(9, 10)
		_, err := cf.tap(t, "default.json") // checks in, forgets to check out
		require.NoError(t, err)
		rec, err := cf.ck.ServiceRecord(ctx, cf.MzAdmin, cf.holder.ID)
		require.NoError(t, err)
		require.Len(t, rec.Attendances, 1)
		attID := rec.Attendances[0].ID
		require.True(t, rec.Attendances[0].OutAt.IsZero())

		corr := checkin.Correction{InAt: time.Date(2026, 11, 23, 9, 10, 0, 0, cst),
			OutAt: time.Date(2026, 11, 23, 12, 30, 0, 0, cst), Reason: "forgot to tap out; confirmed by the team leader"}
		_, err = cf.ck.CorrectAttendance(ctx, cf.GzAdmin, attID, corr)
		require.ErrorIs(t, err, issuance.ErrNotFound, "Guangzhou's admin cannot correct a Meizhou activity")
		_, err = cf.ck.CorrectAttendance(ctx, cf.terminal, attID, corr)
		require.ErrorIs(t, err, issuance.ErrForbidden)

		att, err := cf.ck.CorrectAttendance(ctx, cf.MzAdmin, attID, corr)
		require.NoError(t, err)
		require.Equal(t, int64(170), att.Minutes, "09:10–12:00 (clipped)")
		require.True(t, att.Corrected)

		// Correct again: the totals move by the difference only.
		corr.OutAt = time.Date(2026, 11, 23, 10, 10, 0, 0, cst)
		corr.Reason = "left at 10:10"
		_, err = cf.ck.CorrectAttendance(ctx, cf.MzAdmin, attID, corr)
		require.NoError(t, err)
		rec, err = cf.ck.ServiceRecord(ctx, cf.MzAdmin, cf.holder.ID)
		require.NoError(t, err)
		require.Equal(t, int64(60), rec.LifetimeMinutes)
		require.Equal(t, []checkin.YearMinutes{{Year: 2026, Minutes: 60}}, rec.Years)

		evs, err := cf.ck.Events(ctx, cf.MzAdmin, cf.holder.ID)
		require.NoError(t, err)
		var corrections []checkin.Event
		for _, e := range evs {
			if e.Kind == checkin.EventAttendanceCorrected {
				corrections = append(corrections, e)
			}
		}
		require.Len(t, corrections, 2)
		require.Equal(t, cf.MzAdmin.TokenID, corrections[0].ActorTokenID)
		require.Equal(t, issuance.RoleOrgAdmin, corrections[0].ActorRole)
		require.Equal(t, attID, corrections[1].AttendanceID)
		require.Contains(t, corrections[1].Detail, `"minutes":170`)

		// After the correction closed it, the next tap checks in anew.
		cf.at(11, 0)
		res, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapIn, res.Kind)
	})
}

func TestMemberHoursReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		county, err := cf.Svc.CreateOrg(ctx, cf.Sys, issuance.NewOrg{ParentID: cf.Meizhou.ID, Kind: issuance.OrgCounty,
			Name: "梅江区", RegionCode: "441402"})
		require.NoError(t, err)
		reg := func(org issuance.Org, name, id string, league, party bool) issuance.Volunteer {
			v, err := cf.Svc.RegisterVolunteer(ctx, cf.Sys, issuance.NewVolunteer{OrgID: org.ID, Name: name,
				IDNumber: issuancetest.ResidentID(id), Phone: "13900000000", LeagueMember: league, PartyMember: party})
			require.NoError(t, err)
			return v
		}
		party := reg(county, "李大伟", "44140219800101001", false, true)
		short := reg(county, "王小红", "44140219990101002", true, false)
		reg(county, "陈非党", "44140219990101003", false, false) // not a member: not counted
		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, party.ID, 2026, 25, "import"))
		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, short.ID, 2026, 12.5, "import"))
		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, short.ID, 2025, 40, "last year does not count"))
		// The card holder (league member in Meizhou itself) serves 20 h exactly.
		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, cf.holder.ID, 2026, 20, "import"))

		rep, err := cf.ck.MemberHoursReport(ctx, cf.MzAdmin, cf.Meizhou.ID, 2026)
		require.NoError(t, err)
		require.Equal(t, 3, rep.Members)
		require.Equal(t, 2, rep.Met)
		require.Equal(t, float64(20), rep.ExpectedHours)
		want := []checkin.OrgMemberHours{
			{OrgID: cf.Meizhou.ID, Members: 1, Met: 1, Below: []checkin.MemberShortfall{}},
			{OrgID: county.ID, Members: 2, Met: 1, Below: []checkin.MemberShortfall{{VolunteerID: short.ID, MaskedName: "王*红", Hours: 12.5}}},
		}
		require.Empty(t, cmp.Diff(want, rep.Orgs))

		_, err = cf.ck.MemberHoursReport(ctx, cf.GzAdmin, cf.Meizhou.ID, 2026)
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}

func TestBenefits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		_, err := cf.ck.CreateOffer(ctx, cf.Sys, checkin.NewOffer{OrgID: cf.Province.ID, Tier: checkin.TierCardHolder, Title: "公交九折"})
		require.NoError(t, err)
		_, err = cf.ck.CreateOffer(ctx, cf.MzAdmin, checkin.NewOffer{OrgID: cf.Meizhou.ID, Tier: checkin.TierStar, Title: "景区门票半价"})
		require.NoError(t, err)
		_, err = cf.ck.CreateOffer(ctx, cf.MzAdmin, checkin.NewOffer{OrgID: cf.Meizhou.ID, Tier: checkin.TierFiveStar, Title: "年度表彰"})
		require.NoError(t, err)
		_, err = cf.ck.CreateOffer(ctx, cf.GzAdmin, checkin.NewOffer{OrgID: cf.Guangzhou.ID, Tier: checkin.TierCardHolder, Title: "广州专享"})
		require.NoError(t, err)
		_, err = cf.ck.CreateOffer(ctx, cf.GzAdmin, checkin.NewOffer{OrgID: cf.Meizhou.ID, Tier: checkin.TierStar, Title: "x"})
		require.ErrorIs(t, err, issuance.ErrNotFound)

		check := func() checkin.Benefits {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			b, err := cf.ck.CheckBenefits(ctx, cf.terminal, checkin.BenefitsInput{ChallengeID: ch.ID,
				Evidence: tapEvidence(t, "default.json", ch.UN)})
			require.NoError(t, err)
			return b
		}
		titles := func(b checkin.Benefits) []string {
			var out []string
			for _, o := range b.Offers {
				out = append(out, o.Title)
			}
			return out
		}
		b := check()
		require.Equal(t, "张*明", b.MaskedName)
		require.Equal(t, checkin.TierCardHolder, b.Tier)
		require.Equal(t, []string{"公交九折"}, titles(b))

		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, cf.holder.ID, 2026, 350, "import"))
		b = check()
		require.Equal(t, 2, b.Stars)
		require.Equal(t, []string{"公交九折", "景区门票半价"}, titles(b))

		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, cf.holder.ID, 2026, 1200, "import"))
		b = check()
		require.Equal(t, checkin.TierFiveStar, b.Tier)
		require.Equal(t, []string{"公交九折", "景区门票半价", "年度表彰"}, titles(b))
	})
}

func TestTapIssuedCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		// The bank issued the default card to another volunteer: the
		// issued-cards directory decides over the ID number on the card.
		other, err := cf.Svc.RegisterVolunteer(ctx, cf.Sys, issuance.NewVolunteer{OrgID: cf.Meizhou.ID, Name: "李华",
			IDNumber: issuancetest.ResidentID("44140219950505021"), Phone: "13812340000"})
		require.NoError(t, err)
		app, err := cf.Svc.Apply(ctx, cf.Sys, other.ID, "MZ-VC-CCB", issuance.ChannelBranch)
		require.NoError(t, err)
		pan := tapEvidence(t, "default.json", []byte{1, 2, 3, 4}).PAN
		require.NoError(t, st.CreateCard(ctx, &issuance.Card{ApplicationID: app.ID, PANToken: cf.Svc.PANToken(pan), PANSealed: []byte("sealed"),
			LastFour: pan[len(pan)-4:], Expiry: "3012", State: issuance.BankCardActive, CreatedAt: cf.Clock.Now()}))

		cf.at(9, 0)
		in, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapIn, in.Kind)
		require.Equal(t, other.ID, in.VolunteerID)
		cf.at(10, 0)
		out, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapOut, out.Kind)
		require.Equal(t, int64(60), out.SessionMinutes)
		require.Equal(t, int64(60), out.LifetimeMinutes)

		t.Run("blocked at the bank", func(t *testing.T) {
			require.NoError(t, st.DB(ctx).Exec(`UPDATE cards SET state = 'blocked'`).Error)
			_, err := cf.tap(t, "default.json")
			require.ErrorIs(t, err, checkin.ErrCardBlocked)
		})
	})
}

// TestServiceRecordTierNeedsACard checks that the benefit tier on a service
// record comes with a card: none for a volunteer without one (even with
// stars), the tier of their stars once a card is bound at check-in or
// issued to them, none again while their only card is blocked.
func TestServiceRecordTierNeedsACard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		tier := func(t *testing.T, id int64) checkin.BenefitTier {
			t.Helper()
			rec, err := cf.ck.ServiceRecord(ctx, cf.MzAdmin, id)
			require.NoError(t, err)
			return rec.Tier
		}
		require.Equal(t, checkin.TierNone, tier(t, cf.holder.ID), "no card, no stars")
		require.NoError(t, cf.ck.AddServiceHours(ctx, cf.Sys, cf.holder.ID, 2025, 120, "i志愿 import"))
		rec, err := cf.ck.ServiceRecord(ctx, cf.MzAdmin, cf.holder.ID)
		require.NoError(t, err)
		require.Equal(t, 1, rec.Stars)
		require.Equal(t, checkin.TierNone, rec.Tier, "a star without a card is no card benefit")

		cf.at(9, 0)
		_, err = cf.tap(t, "default.json") // binds the card by the ID number it carries
		require.NoError(t, err)
		require.Equal(t, checkin.TierStar, tier(t, cf.holder.ID))

		pan := tapEvidence(t, "default.json", []byte{1, 2, 3, 4}).PAN
		require.NoError(t, cf.ck.BlockCard(ctx, cf.MzAdmin, pan, "lost"))
		require.Equal(t, checkin.TierNone, tier(t, cf.holder.ID), "the only card is blocked")

		t.Run("issued card", func(t *testing.T) {
			other, err := cf.Svc.RegisterVolunteer(ctx, cf.Sys, issuance.NewVolunteer{OrgID: cf.Meizhou.ID, Name: "李华",
				IDNumber: issuancetest.ResidentID("44140219950505021"), Phone: "13812340000"})
			require.NoError(t, err)
			require.Equal(t, checkin.TierNone, tier(t, other.ID))
			app, err := cf.Svc.Apply(ctx, cf.Sys, other.ID, "MZ-VC-CCB", issuance.ChannelBranch)
			require.NoError(t, err)
			card := &issuance.Card{ApplicationID: app.ID, PANToken: cf.Svc.PANToken("6217000000000000011"), PANSealed: []byte("sealed"),
				LastFour: "0011", Expiry: "3012", State: issuance.BankCardIssued, CreatedAt: cf.Clock.Now()}
			require.NoError(t, st.CreateCard(ctx, card))
			require.Equal(t, checkin.TierCardHolder, tier(t, other.ID), "issued, not yet activated")
			require.NoError(t, st.DB(ctx).Exec(`UPDATE cards SET pending_change = 'block' WHERE id = ?`, card.ID).Error)
			require.Equal(t, checkin.TierNone, tier(t, other.ID), "a block on its way to the bank")
		})
	})
}
