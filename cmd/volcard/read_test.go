package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
)

const (
	testCardImage = "../../testdata/cards/default.json"
	testCAKeys    = "../../testdata/keys/ca-public.json"
)

func TestReadAndReadersCommands(t *testing.T) {
	pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	card, err := cardsim.Load(testCardImage)
	require.NoError(t, err)
	pcsctest.Insert(t, slot, card)

	t.Run("readers", func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, runReaders(t.Context(), &out, false))
		require.Contains(t, out.String(), slot.Reader+"\tcard present")
	})
	t.Run("read json", func(t *testing.T) {
		var out, errOut bytes.Buffer
		o := readOptions{reader: slot.Reader, asJSON: true, timeout: 10 * time.Second, caKeys: testCAKeys}
		require.NoError(t, runRead(t.Context(), o, &out, &errOut))
		var res readResult
		require.NoError(t, json.Unmarshal(out.Bytes(), &res))
		require.Equal(t, "621785*********2349", res.PAN)
		require.Equal(t, "张晓明", res.Name)
		require.True(t, res.ODA.Verified)
		require.Equal(t, slot.Reader, res.Reader)
		require.NotContains(t, out.String(), "6217850000")
	})
	t.Run("read defaults to the test CA of a checkout", func(t *testing.T) {
		t.Chdir("../..") // the repository root, which has testdata/keys
		var out, errOut bytes.Buffer
		o := readOptions{reader: slot.Reader, asJSON: true, timeout: 10 * time.Second}
		require.NoError(t, runRead(t.Context(), o, &out, &errOut))
		var res readResult
		require.NoError(t, json.Unmarshal(out.Bytes(), &res))
		require.True(t, res.ODA.Verified, "a fresh card is genuine under the default CA")
		require.Contains(t, errOut.String(), "TEST CA")
	})
	t.Run("read text without CA keys fails ODA", func(t *testing.T) {
		var out, errOut bytes.Buffer
		o := readOptions{reader: slot.Reader, timeout: 10 * time.Second}
		err := runRead(t.Context(), o, &out, &errOut)
		require.Equal(t, exitFailure, exitCode(err), "err: %v", err)
		require.Contains(t, out.String(), "621785*********2349")
		require.Contains(t, out.String(), "FAILED")
	})
}

func TestReadNoCard(t *testing.T) {
	pcsctest.Start(t)
	slot := pcsctest.Slot(t) // held, empty
	tests := []struct {
		name string
		o    readOptions
		ctx  func() (context.Context, context.CancelFunc)
		code int
	}{
		{name: "timeout", o: readOptions{reader: slot.Reader, timeout: 200 * time.Millisecond}, code: exitNoDevice},
		{name: "unknown reader", o: readOptions{reader: "No Such Reader", timeout: time.Second}, code: exitNoDevice},
		{name: "cancelled", o: readOptions{reader: slot.Reader}, code: exitFailure, ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel) // Ctrl-C
			return ctx, cancel
		}},
		{name: "bad CA key file", o: readOptions{reader: slot.Reader, caKeys: "does-not-exist.json"}, code: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			var out, errOut bytes.Buffer
			err := runRead(ctx, tt.o, &out, &errOut)
			require.Equal(t, tt.code, exitCode(err), "err: %v", err)
		})
	}
}
