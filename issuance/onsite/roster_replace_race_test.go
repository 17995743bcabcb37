package onsite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestRosterReplaceConcurrentApproval: an application of the roster is
// approved while a replacement that removes it is being stored (after its
// first chunk). Either the approval waits for the replacement and fails
// (the application was cancelled with its entry), or it comes first and
// the replacement fails with nothing of it stored; never an approved
// application cancelled, nor a half-applied replacement.
func TestRosterReplaceConcurrentApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newOnsiteFixture(t, st)
		s := f.session(t, 30)
		people := rostertest.People(40, 7)
		first, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{Data: rostertest.CSV(people[:30], false, false)})
		require.NoError(t, err)
		require.Equal(t, 30, first.Accepted)
		leaving := first.Results[0].ApplicationID // people[0] is not in the replacement
		require.NotZero(t, leaving)
		before := map[string]int64{}
		for _, tb := range []string{"onsite_entries", "roster_uploads", "applications", "volunteers"} {
			before[tb] = count(t, st, tb)
		}

		approved := make(chan error, 1)
		var once bool
		rep, upErr := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{
			Data: rostertest.CSV(people[1:40], false, false), Mode: onsite.RosterReplace, ChunkSize: 10,
			OnChunk: func(done, _ int) {
				if once {
					return
				}
				once = true
				go func() {
					_, err := f.Svc.Approve(context.Background(), f.Sys, leaving)
					approved <- err
				}()
				// Give the approval its chance to land in the middle; with
				// the session locked it waits for the replacement instead.
				select {
				case err := <-approved:
					approved <- err
				case <-time.After(2 * time.Second):
				}
			},
		})
		approveErr := <-approved
		app, err := f.Svc.GetApplication(ctx, f.Sys, leaving)
		require.NoError(t, err)
		if upErr == nil {
			require.Error(t, approveErr, "the approval came after the replacement: it must fail")
			require.Equal(t, issuance.StatusCancelled, app.Status)
			require.Equal(t, 1, rep.Upload.Removed)
			require.EqualValues(t, before["onsite_entries"]+9, count(t, st, "onsite_entries"))
		} else {
			var me *onsite.RosterModeError
			require.True(t, errors.As(upErr, &me) && me.Approved, "refused because of the approval: %v", upErr)
			require.NoError(t, approveErr)
			require.Equal(t, issuance.StatusApproved, app.Status)
			for tb, n := range before {
				require.EqualValues(t, n, count(t, st, tb), "the refused replacement left nothing in %s", tb)
			}
		}
	})
}
