package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestPersoRepo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, _, v := base(t, st)
		app := newApp(v, "GD-P-1")
		require.NoError(t, st.CreateApplication(ctx, &app))
		card := issuance.Card{ApplicationID: app.ID, PANToken: []byte("tok"), PANSealed: []byte("sealed"), LastFour: "1234",
			Expiry: "3111", PSN: "001", State: issuance.BankCardIssued, CreatedAt: now}
		require.NoError(t, st.CreateCard(ctx, &card))

		mk := func(id string, at time.Time) issuance.PersoSession {
			s := issuance.PersoSession{ID: id, ApplicationID: app.ID, BankCode: "CCB", Reader: "r", State: issuance.PersoOpen,
				Step: 1, Secret: []byte{1, 2}, ExpiresAt: at.Add(10 * time.Minute), CreatedAt: at, UpdatedAt: at}
			require.NoError(t, st.CreatePersoSession(ctx, &s))
			return s
		}
		s1 := mk("s1", now)
		s2 := mk("s2", now.Add(time.Second))
		got, err := st.GetPersoSession(ctx, "s1")
		require.NoError(t, err)
		require.Equal(t, issuance.PersoSuperseded, got.State, "a new session supersedes the live one")
		require.Equal(t, []byte{1, 2}, got.Secret, "its state stays for recovery")
		list, err := st.ListPersoSessions(ctx, app.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"s2", "s1"}, []string{list[0].ID, list[1].ID})

		// Compare-and-set on (state, step).
		s2.State, s2.Step, s2.ChipSerial = issuance.PersoScript, 2, "CHIP"
		require.NoError(t, st.UpdatePersoSession(ctx, &s2, issuance.PersoOpen, 1))
		require.ErrorIs(t, st.UpdatePersoSession(ctx, &s2, issuance.PersoOpen, 1), issuance.ErrConflict)
		_, err = st.GetPersoSession(ctx, "nope")
		require.ErrorIs(t, err, issuance.ErrNotFound)
		_ = s1

		rec := issuance.PersoRecord{ApplicationID: app.ID, CardID: card.ID, SessionID: "s2", ChipSerial: "CHIP", PANToken: []byte("tok"),
			LastFour: "1234", PSN: "001", Expiry: "3111", Reader: "r", PersonalizedAt: now}
		require.NoError(t, st.CreatePersoRecord(ctx, &rec))
		again := rec
		var ce *issuance.ConflictError
		require.ErrorAs(t, st.CreatePersoRecord(ctx, &again), &ce)
		require.Equal(t, "personalized_card", ce.What)
		r, err := st.GetPersoRecord(ctx, app.ID)
		require.NoError(t, err)
		require.Equal(t, "CHIP", r.ChipSerial)
	})
}
