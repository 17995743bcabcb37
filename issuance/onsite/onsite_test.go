package onsite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/onsite"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// onsiteFixture: province → Meizhou → 嘉应学院 (university), BOC with a
// Meizhou branch, the provincial BOC card, an admin of the university and
// a BOC staff member of the Meizhou branch.
type onsiteFixture struct {
	Svc        *issuance.Service
	On         *onsite.Service
	St         *store.Store
	Sys        issuance.Actor
	Meizhou    issuance.Org
	university issuance.Org
	Guangzhou  issuance.Org
	branch     issuance.Branch
	uniAdmin   issuance.Actor
	bocStaff   issuance.Actor
	date       time.Time
}

func newOnsiteFixture(t testing.TB, st *store.Store, opts ...issuance.Option) *onsiteFixture {
	t.Helper()
	ctx := context.Background()
	opts = append([]issuance.Option{issuance.WithClock(&issuancetest.Clock{T: issuancetest.Now})}, opts...)
	svc, err := issuance.NewService(st, issuancetest.Keys(t), opts...)
	require.NoError(t, err)
	on, err := onsite.New(svc, st)
	require.NoError(t, err)
	f := &onsiteFixture{Svc: svc, On: on, St: st, Sys: issuance.SystemActor(), date: issuancetest.Now.AddDate(0, 0, 14)}
	province, err := svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000"})
	require.NoError(t, err)
	f.Meizhou, err = svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{ParentID: province.ID, Kind: issuance.OrgCity, Name: "梅州市", RegionCode: "441400"})
	require.NoError(t, err)
	f.Guangzhou, err = svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{ParentID: province.ID, Kind: issuance.OrgCity, Name: "广州市", RegionCode: "440100"})
	require.NoError(t, err)
	f.university, err = svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{ParentID: f.Meizhou.ID, Kind: issuance.OrgUniversity, Name: "嘉应学院"})
	require.NoError(t, err)
	require.NoError(t, svc.PutBank(ctx, f.Sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, svc.PutBank(ctx, f.Sys, issuance.Bank{Code: "CEB", Name: "中国光大银行"}))
	require.NoError(t, svc.PutProduct(ctx, f.Sys, issuance.Product{Code: "GD-RV-BOC", Name: "注册志愿者证（中国银行）",
		BankCode: "BOC", BIN: "621785", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: province.ID}))
	require.NoError(t, svc.PutProduct(ctx, f.Sys, issuance.Product{Code: "GD-RV-CEB", Name: "注册志愿者证（光大银行）",
		BankCode: "CEB", BIN: "622660", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: province.ID}))
	f.branch = issuance.Branch{BankCode: "BOC", OrgID: f.Meizhou.ID, Name: "中国银行梅州分行",
		Contact: issuance.Contact{Name: "陈经理", Phone: pii.Phone("0753-2188888")}}
	require.NoError(t, svc.PutBranch(ctx, f.Sys, &f.branch))
	tok := func(in issuance.NewToken) issuance.Actor {
		plain, _, err := svc.CreateToken(ctx, f.Sys, in)
		require.NoError(t, err)
		a, err := svc.Authenticate(ctx, plain)
		require.NoError(t, err)
		return a
	}
	f.uniAdmin = tok(issuance.NewToken{Name: "jyu", Role: issuance.RoleOrgAdmin, OrgID: f.university.ID})
	f.bocStaff = tok(issuance.NewToken{Name: "boc mz", Role: issuance.RoleBankStaff, BankCode: "BOC", BranchID: f.branch.ID})
	return f
}

func (f *onsiteFixture) session(t testing.TB, n int) onsite.Session {
	t.Helper()
	s, err := f.On.Request(context.Background(), f.uniAdmin, onsite.NewSession{
		OrgID: f.university.ID, Site: "嘉应学院体育馆", Date: f.date, ExpectedCount: n, ProductCode: "GD-RV-BOC"})
	require.NoError(t, err)
	return s
}

func count(t testing.TB, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, st.DB(context.Background()).Table(table).Count(&n).Error)
	return n
}

func fixtureFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "rosters", name))
	require.NoError(t, err)
	return b
}

func TestOnsiteSessionRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newOnsiteFixture(t, st)
		req := func(n int, product string, date time.Time) error {
			_, err := f.On.Request(ctx, f.uniAdmin, onsite.NewSession{
				OrgID: f.university.ID, Site: "体育馆", Date: date, ExpectedCount: n, ProductCode: product})
			return err
		}
		tests := []struct {
			name    string
			n       int
			product string
			date    time.Time
			field   string
		}{
			{name: "29 refused", n: 29, product: "GD-RV-BOC", date: f.date, field: "expected_count"},
			{name: "past date", n: 45, product: "GD-RV-BOC", date: issuancetest.Now.AddDate(0, 0, -1), field: "date"},
			{name: "no branch of the bank in the city", n: 45, product: "GD-RV-CEB", date: f.date, field: "product"},
			{name: "unknown product", n: 45, product: "NOPE", date: f.date, field: "product"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := req(tc.n, tc.product, tc.date)
				var ve *issuance.ValidationError
				require.True(t, errors.As(err, &ve), "%v", err)
				require.Equal(t, tc.field, ve.Field)
			})
		}
		err := req(29, "GD-RV-BOC", f.date)
		require.Contains(t, err.Error(), "bank branch or online")

		s := f.session(t, 45)
		require.Equal(t, onsite.SessionRequested, s.Status)
		require.Equal(t, f.branch.ID, s.BranchID)
		require.Equal(t, f.Meizhou.ID, s.CityID)
		require.Equal(t, f.date.Format(time.DateOnly), s.Date.Format(time.DateOnly))
		got, err := f.On.Get(ctx, f.uniAdmin, s.ID)
		require.NoError(t, err)
		require.Equal(t, s.Date, got.Date)
		require.Equal(t, "陈经理", s.Branch.Contact.Name)
		require.Equal(t, "0753-2188888", s.Branch.Contact.Phone.Reveal())

		// Scoping: a Guangzhou admin cannot see it, BOC staff of Meizhou can.
		gz, _, err := f.Svc.CreateToken(ctx, f.Sys, issuance.NewToken{Name: "gz", Role: issuance.RoleOrgAdmin, OrgID: f.Guangzhou.ID})
		require.NoError(t, err)
		gzActor, err := f.Svc.Authenticate(ctx, gz)
		require.NoError(t, err)
		_, err = f.On.Get(ctx, gzActor, s.ID)
		require.ErrorIs(t, err, issuance.ErrNotFound)
		_, err = f.On.Get(ctx, f.bocStaff, s.ID)
		require.NoError(t, err)
	})
}

func TestOnsiteSessionStates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newOnsiteFixture(t, st)
		s := f.session(t, 30)
		_, err := f.On.Transition(ctx, f.uniAdmin, s.ID, onsite.SessionScheduled, "")
		require.ErrorIs(t, err, issuance.ErrForbidden, "the organisation does not schedule the bank's visit")
		_, err = f.On.Transition(ctx, f.bocStaff, s.ID, onsite.SessionCompleted, "")
		var te *onsite.SessionTransitionError
		require.True(t, errors.As(err, &te))
		require.ErrorIs(t, err, issuance.ErrIllegalTransition)
		for _, to := range []onsite.SessionStatus{onsite.SessionScheduled, onsite.SessionInProgress, onsite.SessionCompleted} {
			got, err := f.On.Transition(ctx, f.bocStaff, s.ID, to, "")
			require.NoError(t, err)
			require.Equal(t, to, got.Status)
		}
		_, err = f.On.Transition(ctx, f.uniAdmin, s.ID, onsite.SessionCancelled, "too late")
		require.ErrorIs(t, err, issuance.ErrIllegalTransition)
		ev, err := f.On.Events(ctx, f.uniAdmin, s.ID)
		require.NoError(t, err)
		var path []onsite.SessionStatus
		for _, e := range ev {
			path = append(path, e.To)
		}
		require.Equal(t, []onsite.SessionStatus{onsite.SessionRequested, onsite.SessionScheduled, onsite.SessionInProgress, onsite.SessionCompleted}, path)
		require.Equal(t, issuance.RoleBankStaff, ev[1].ActorRole)

		s2 := f.session(t, 30)
		c, err := f.On.Transition(ctx, f.uniAdmin, s2.ID, onsite.SessionCancelled, "exams moved")
		require.NoError(t, err)
		require.Equal(t, "exams moved", c.Reason)
		_, err = f.On.UploadRoster(ctx, f.bocStaff, s2.ID, onsite.RosterInput{Data: fixtureFile(t, "onsite-45-gb18030.csv")})
		require.ErrorIs(t, err, issuance.ErrIllegalTransition, "no uploads to a cancelled session")
	})
}

// wantRejects are the reasons of the five bad rows of the fixtures, by
// file line (data row + 1 for the header).
var wantRejects = map[int]onsite.ReasonCode{
	rostertest.BadChecksumRow + 1: onsite.ReasonBadChecksum,
	rostertest.UnderAgeRow + 1:    onsite.ReasonUnderAge,
	rostertest.DuplicateRow + 1:   onsite.ReasonDuplicateInFile,
	rostertest.BadPhoneRow + 1:    onsite.ReasonBadPhone,
	rostertest.MissingNameRow + 1: onsite.ReasonMissingField,
}

func checkReport(t testing.TB, rep onsite.RosterReport) {
	t.Helper()
	require.Equal(t, 45, rep.Rows)
	require.Equal(t, 40, rep.Accepted)
	require.Equal(t, 5, rep.Rejected)
	got := map[int]onsite.ReasonCode{}
	for _, r := range rep.Results {
		if r.Status == onsite.RowRejected {
			require.Len(t, r.Reasons, 1, "line %d: %v", r.Line, r.Reasons)
			got[r.Line] = r.Reasons[0].Code
		}
	}
	require.Equal(t, wantRejects, got)
}

func TestUploadRoster(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newOnsiteFixture(t, st)
		s := f.session(t, 45)
		data := fixtureFile(t, "onsite-45-gb18030.csv")

		// Someone already registered and holding a live application: row 5.
		people := rostertest.Fixture45(0)
		v, err := f.Svc.RegisterVolunteer(ctx, f.Sys, issuance.NewVolunteer{OrgID: f.Meizhou.ID, Name: people[4].Name,
			IDNumber: people[4].IDNumber, Phone: people[4].Phone, ClothingSize: "M"})
		require.NoError(t, err)
		_, err = f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		// Someone registered without an application: row 6 (kept, not re-registered).
		_, err = f.Svc.RegisterVolunteer(ctx, f.Sys, issuance.NewVolunteer{OrgID: f.Meizhou.ID, Name: people[5].Name,
			IDNumber: people[5].IDNumber, Phone: people[5].Phone, ClothingSize: "M"})
		require.NoError(t, err)

		rep, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{Data: data, Filename: "roster.csv", ChunkSize: 7})
		require.NoError(t, err)
		require.Equal(t, 39, rep.Accepted)
		require.Equal(t, 6, rep.Rejected)
		require.Equal(t, "gb18030", rep.Upload.Encoding)
		var newVols int
		for _, r := range rep.Results {
			if r.Line == 6 {
				require.Equal(t, onsite.ReasonLiveApplication, r.Reasons[0].Code)
			}
			if r.Line == 7 {
				require.Equal(t, onsite.RowAccepted, r.Status)
				require.False(t, r.NewVolunteer)
			}
			if r.NewVolunteer {
				newVols++
			}
		}
		require.Equal(t, 38, newVols)
		vols, apps, entries := count(t, st, "volunteers"), count(t, st, "applications"), count(t, st, "onsite_entries")
		require.EqualValues(t, 39, entries)

		// The same file again: nothing changes.
		rep2, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{Data: data})
		require.NoError(t, err)
		require.True(t, rep2.Repeated)
		require.Equal(t, 39, rep2.AlreadyStored)
		require.Equal(t, 0, rep2.Stored)
		require.Equal(t, rep.Upload.ID, rep2.Upload.ID)
		require.Equal(t, vols, count(t, st, "volunteers"))
		require.Equal(t, apps, count(t, st, "applications"))
		require.Equal(t, entries, count(t, st, "onsite_entries"))
		require.EqualValues(t, 6, count(t, st, "roster_rejects"))

		// The volunteers are on_site, the applications on_site and submitted.
		q, err := f.On.Queue(ctx, f.bocStaff, s.ID)
		require.NoError(t, err)
		require.Len(t, q, 39)
		require.Equal(t, 2, q[0].Entry.Line)
		require.Equal(t, issuance.StatusSubmitted, q[0].Status)
		require.Equal(t, f.bocStaff.TokenID, q[0].Entry.VerifiedBy)
		for i := 1; i < len(q); i++ {
			require.Less(t, q[i-1].Entry.Line, q[i].Entry.Line, "roster order")
		}
		nv, err := f.Svc.GetVolunteer(ctx, f.Sys, q[0].Entry.VolunteerID)
		require.NoError(t, err)
		require.Equal(t, issuance.ChannelOnSite, nv.Source)
		require.Equal(t, f.university.ID, nv.OrgID)

		// Rejected rows come back decrypted for the file.
		_, rj, err := f.On.RejectedRows(ctx, f.bocStaff, s.ID)
		require.NoError(t, err)
		require.Len(t, rj, 6)
		require.Equal(t, people[rostertest.BadPhoneRow-1].IDNumber, rj[4].IDNumber.Reveal())

		// Approve all in one action: the university's admin.
		_, err = f.On.Approve(ctx, f.bocStaff, s.ID)
		require.ErrorIs(t, err, issuance.ErrForbidden)
		ap, err := f.On.Approve(ctx, f.uniAdmin, s.ID)
		require.NoError(t, err)
		require.Equal(t, 39, ap.Approved)
		ap2, err := f.On.Approve(ctx, f.uniAdmin, s.ID)
		require.NoError(t, err)
		require.Zero(t, ap2.Approved, "approving again changes nothing")
		ev, err := f.Svc.Events(ctx, f.Sys, q[0].Entry.ApplicationID)
		require.NoError(t, err)
		require.Equal(t, issuance.StatusApproved, ev[1].To)
		require.Equal(t, f.uniAdmin.TokenID, ev[1].ActorTokenID)

		c, err := f.On.Report(ctx, f.uniAdmin, s.ID)
		require.NoError(t, err)
		require.Equal(t, 45, c.Requested)
		require.Equal(t, 39, c.Accepted)
		require.Equal(t, 6, c.Rejected)
		require.Equal(t, 39, c.Approved+c.Sent)

		// Personalization bookkeeping for the later batch command.
		e, err := f.On.MarkEntry(ctx, f.bocStaff, s.ID, q[0].Entry.ID, onsite.PersonalizeFailed, "card mute")
		require.NoError(t, err)
		require.Equal(t, 1, e.Attempts)
		_, err = f.On.MarkEntry(ctx, f.bocStaff, s.ID+1, q[0].Entry.ID, onsite.PersonalizeDone, "")
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}

func TestUploadRosterXLSXFixture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newOnsiteFixture(t, st)
		s := f.session(t, 45)
		rep, err := f.On.UploadRoster(context.Background(), f.bocStaff, s.ID, onsite.RosterInput{Data: fixtureFile(t, "onsite-45.xlsx")})
		require.NoError(t, err)
		checkReport(t, rep)
	})
}

// TestUploadRosterResumes breaks an upload midway (a transition hook fails
// on the 20th application, rolling back its chunk) and uploads the file
// again: every row ends up stored exactly once.
func TestUploadRosterResumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		n := 0
		boom := errors.New("simulated crash")
		var armed = true
		hook := issuance.TransitionHookFunc(func(ctx context.Context, a issuance.Application, e issuance.Event) error {
			if e.To == issuance.StatusSubmitted && armed {
				if n++; n == 20 {
					return boom
				}
			}
			return nil
		})
		f := newOnsiteFixture(t, st, issuance.WithTransitionHooks(hook))
		s := f.session(t, 45)
		data := fixtureFile(t, "onsite-45-gb18030.csv")
		_, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{Data: data, ChunkSize: 10})
		require.ErrorIs(t, err, boom)
		stored := count(t, st, "onsite_entries")
		require.Greater(t, stored, int64(0))
		require.Less(t, stored, int64(40))
		armed = false
		rep, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{Data: data, ChunkSize: 10})
		require.NoError(t, err)
		checkReport(t, rep)
		require.Equal(t, int(stored), rep.AlreadyStored)
		require.EqualValues(t, 40, count(t, st, "onsite_entries"))
		require.EqualValues(t, 40, count(t, st, "applications"))
		require.EqualValues(t, 40, count(t, st, "volunteers"))
	})
}
