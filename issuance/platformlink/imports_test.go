package platformlink_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func importRow(line int, org int64, n int, name string) platformlink.ImportRow {
	return platformlink.ImportRow{Line: line, Volunteer: issuance.NewVolunteer{OrgID: org, Name: name,
		IDNumber: issuancetest.ResidentID(fmt.Sprintf("44030419920202%03d", n)), Phone: "13912345678",
		VolunteerNumber: fmt.Sprintf("P%06d", n)}}
}

// TestImportVolunteers: valid rows are created, bad rows rejected with
// their reasons, a batch sent again is answered from its record (nothing
// doubled), a re-run updates in place, a person registered at a branch is
// matched (number set, request closed), and clashes are rejected.
func TestImportVolunteers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		l := newLink(t, st)
		gz := l.f.Guangzhou.ID
		branch, branchID := l.register(t, issuance.ChannelBranch, "钱柜台")
		rows := []platformlink.ImportRow{importRow(1, gz, 1, "一号"), importRow(2, gz, 2, "二号"), importRow(3, gz, 3, "三号")}
		bad := importRow(4, gz, 4, "四号")
		bad.Volunteer.IDNumber = "440304199202020049" // wrong check character
		rows = append(rows, bad)
		noOrg := importRow(5, 99999, 5, "五号")
		rows = append(rows, noOrg)
		dup := importRow(6, gz, 6, "六号")
		dup.Volunteer.VolunteerNumber = "P000001"
		rows = append(rows, dup)
		match := platformlink.ImportRow{Line: 7, Volunteer: issuance.NewVolunteer{OrgID: gz, Name: "钱柜台",
			IDNumber: branchID, Phone: "13812345678", VolunteerNumber: "P000007"}}
		rows = append(rows, match)
		key := platformlink.BatchKey{ImportID: "test-import", Seq: 0}

		_, err := l.pl.ImportVolunteers(ctx, l.f.GzAdmin, key, rows)
		require.ErrorIs(t, err, issuance.ErrForbidden)
		res, err := l.pl.ImportVolunteers(ctx, l.f.Sys, key, rows)
		require.NoError(t, err)
		require.False(t, res.Replayed)
		require.Equal(t, 7, res.Rows)
		require.Equal(t, 3, res.Created)
		require.Equal(t, 1, res.Updated)
		require.Equal(t, []platformlink.Reject{
			{Line: 4, Field: "id_number", Reason: "check character does not match"},
			{Line: 5, Field: "org_id", Reason: "no such organisation"},
			{Line: 6, Field: "volunteer_number", Reason: "repeats line 1"},
		}, res.Rejects)
		require.Equal(t, "P000007", l.number(t, branch.ID))
		rs := l.requests(t)
		require.Len(t, rs, 1)
		require.Equal(t, platformlink.StateDone, rs[0].State)
		require.True(t, rs[0].Matched)

		again, err := l.pl.ImportVolunteers(ctx, l.f.Sys, key, rows)
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, res.Created, again.Created)
		require.Equal(t, res.Rejects, again.Rejects)

		rows[0].Volunteer.Name = "一号改名"
		rerun, err := l.pl.ImportVolunteers(ctx, l.f.Sys, platformlink.BatchKey{ImportID: "second-run", Seq: 0}, rows[:3])
		require.NoError(t, err)
		require.Equal(t, 0, rerun.Created)
		require.Equal(t, 3, rerun.Updated)
		v, err := l.f.Svc.FindVolunteerByIDNumber(ctx, l.f.Sys, rows[0].Volunteer.IDNumber)
		require.NoError(t, err)
		require.Equal(t, "一号改名", v.Name)
		require.Equal(t, "13912345678", v.Phone.Reveal())

		clash := []platformlink.ImportRow{importRow(1, gz, 9, "九号"), importRow(2, gz, 10, "十号")}
		clash[0].Volunteer.VolunteerNumber = "P000002" // another person's number
		clash[1].Volunteer.IDNumber = rows[2].Volunteer.IDNumber
		res, err = l.pl.ImportVolunteers(ctx, l.f.Sys, platformlink.BatchKey{ImportID: "clash", Seq: 0}, clash)
		require.NoError(t, err)
		require.Zero(t, res.Created+res.Updated)
		require.Len(t, res.Rejects, 2)

		results, err := l.pl.Results(ctx, l.f.Sys, "test-import")
		require.NoError(t, err)
		require.Len(t, results, 1)
		require.Len(t, results[0].Rejects, 3)
	})
}

// TestImportHours: hours replace the last imported total; unknown numbers
// are rejected.
func TestImportHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		l := newLink(t, st)
		_, err := l.pl.ImportVolunteers(ctx, l.f.Sys, platformlink.BatchKey{ImportID: "v", Seq: 0},
			[]platformlink.ImportRow{importRow(1, l.f.Guangzhou.ID, 21, "时长")})
		require.NoError(t, err)
		res, err := l.pl.ImportHours(ctx, l.f.Sys, platformlink.BatchKey{ImportID: "h", Seq: 0}, []platformlink.HoursRow{
			{Line: 1, Number: "P000021", Minutes: 90}, {Line: 2, Number: "P999999", Minutes: 60}, {Line: 3, Number: "P000021", Minutes: 1}})
		require.NoError(t, err)
		require.Equal(t, 1, res.Updated)
		require.Equal(t, []platformlink.Reject{{Line: 2, Field: "volunteer_number", Reason: "no volunteer with this platform number"},
			{Line: 3, Field: "volunteer_number", Reason: "repeats line 1"}}, res.Rejects)
	})
}
