package dataprep_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/personalization/dataprep"
)

// TestExportImport: a Prepared card and a Batch survive Export/Import (as
// a server keeps them between requests), and a personalization continued
// from the imported values checks out.
func TestExportImport(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, err := e.prep.Prepare(ctx, input(t, "470123"))
	require.NoError(t, err)
	raw, err := p.Export()
	require.NoError(t, err)
	p2, err := dataprep.ImportPrepared(raw)
	require.NoError(t, err)
	require.Equal(t, p.PAN.Digits(), p2.PAN.Digits())
	require.Empty(t, cmp.Diff(p.Records, p2.Records))
	require.Equal(t, len(p.DGIs), len(p2.DGIs))

	card := blankCard(t, e.kmc, 77)
	res, err := personalize(ctx, t, e, cardsim.NewReaders(card), p2)
	require.NoError(t, err)
	braw, err := res.batch.Export()
	require.NoError(t, err)
	b2, err := dataprep.ImportBatch(braw)
	require.NoError(t, err)
	require.Equal(t, res.batch.ReadBack, b2.ReadBack)
	require.Empty(t, cmp.Diff(res.batch.Commands, b2.Commands))
	_, err = dataprep.CheckReadBack(ctx, p2, b2, res.responses, e.ca)
	require.NoError(t, err, "the check runs from imported state")

	t.Run("garbage", func(t *testing.T) {
		for _, in := range []string{"", "{}", "[]", `{"pan":"12"}`, `{"readBack":-1}`} {
			_, err := dataprep.ImportPrepared([]byte(in))
			require.ErrorIs(t, err, dataprep.ErrInvalidInput, in)
			_, err = dataprep.ImportBatch([]byte(in))
			require.ErrorIs(t, err, dataprep.ErrInvalidInput, in)
		}
	})
}

// FuzzImportState: the state parsers never panic on any input.
func FuzzImportState(f *testing.F) {
	f.Add([]byte(`{"aid":"A000000333010101","dgis":[{"tag":257,"data":"00"}],"pan":"6217850000123455","records":[{"sfi":1,"number":1,"raw":"7000"}]}`))
	f.Add([]byte(`{"commands":["00A40400"],"readBack":0,"un":"01020304"}`))
	f.Add([]byte(`{"commands":["0"],"readBack":1,"un":"01020304"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := dataprep.ImportPrepared(b); err == nil {
			_, _ = p.Export()
		}
		if bt, err := dataprep.ImportBatch(b); err == nil {
			_, _ = bt.Export()
		}
	})
}
