package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
)

func TestParseFailRules(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []failRule
		wantErr bool
	}{
		{name: "none", in: nil, want: []failRule{}},
		{name: "GPO", in: []string{"80A8=6985"}, want: []failRule{{prefix: []byte{0x80, 0xA8}, sw: 0x6985}}},
		{name: "two", in: []string{"0020=6983", "00B2=6A83"}, want: []failRule{{prefix: []byte{0x00, 0x20}, sw: 0x6983}, {prefix: []byte{0x00, 0xB2}, sw: 0x6A83}}},
		{name: "no equals", in: []string{"80A8"}, wantErr: true},
		{name: "bad hex", in: []string{"8Z=6985"}, wantErr: true},
		{name: "empty prefix", in: []string{"=6985"}, wantErr: true},
		{name: "short SW", in: []string{"80A8=69"}, wantErr: true},
		{name: "bad SW", in: []string{"80A8=69XX"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFailRules(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCardSimCommand(t *testing.T) {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var log bytes.Buffer
	go func() {
		done <- runCardSim(ctx, cardSimOptions{vpcdAddr: slot.Addr, image: testCardImage}, &log)
	}()
	wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	require.NoError(t, r.WaitForCard(wctx, slot.Reader))

	var out, errOut bytes.Buffer
	o := readOptions{reader: slot.Reader, asJSON: true, timeout: 10 * time.Second, caKeys: testCAKeys}
	require.NoError(t, runRead(t.Context(), o, &out, &errOut))
	require.Contains(t, out.String(), `"verified": true`)

	cancel()
	require.NoError(t, <-done)
	require.NoError(t, r.WaitForRemoval(wctx, slot.Reader))
}

func TestCardSimRemoveAfter(t *testing.T) {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	done := make(chan error, 1)
	var log bytes.Buffer
	go func() {
		done <- runCardSim(t.Context(), cardSimOptions{vpcdAddr: slot.Addr, image: testCardImage, removeAfter: 3}, &log)
	}()
	wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	require.NoError(t, r.WaitForCard(wctx, slot.Reader))
	var out, errOut bytes.Buffer
	err := runRead(t.Context(), readOptions{reader: slot.Reader, timeout: 10 * time.Second, caKeys: testCAKeys}, &out, &errOut)
	require.Equal(t, exitNoDevice, exitCode(err), "err: %v", err)
	require.NoError(t, <-done, "card-sim exits when its card is pulled out")
	require.NoError(t, r.WaitForRemoval(wctx, slot.Reader))
}
