package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/cardsim"
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

// TestCardSimSave: a card served with --save is written to its card file
// as soon as a read changes it (the GPO steps the ATC), again when
// card-sim stops, and a new card-sim run from that file carries on from
// the saved state.
func TestCardSimSave(t *testing.T) {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	saved := filepath.Join(t.TempDir(), "card.json")
	first, err := cardsim.LoadImage(testCardImage)
	require.NoError(t, err)

	serve := func(image string) (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		var log bytes.Buffer
		go func() {
			done <- runCardSim(ctx, cardSimOptions{vpcdAddr: slot.Addr, image: image, save: saved}, &log)
		}()
		wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer wcancel()
		require.NoError(t, r.WaitForCard(wctx, slot.Reader))
		return func() {
			cancel()
			require.NoError(t, <-done)
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer wcancel()
			require.NoError(t, r.WaitForRemoval(wctx, slot.Reader))
		}
	}
	read := func() {
		var out, errOut bytes.Buffer
		require.NoError(t, runRead(t.Context(), readOptions{reader: slot.Reader, timeout: 10 * time.Second, caKeys: testCAKeys}, &out, &errOut))
	}
	atc := func() int {
		img, err := cardsim.LoadImage(saved)
		require.NoError(t, err)
		return img.ATC
	}

	stop := serve(testCardImage)
	read()
	require.Equal(t, first.ATC+1, atc(), "saved while card-sim runs")
	stop()
	require.Equal(t, first.ATC+1, atc())
	fi, err := os.Stat(saved)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	stop = serve(saved) // the same card back in a reader
	read()
	stop()
	require.Equal(t, first.ATC+2, atc(), "the saved card carries on")
}

func TestCardSimBlanks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cards")
	var out bytes.Buffer
	require.NoError(t, runCardSimBlanks(blanksOptions{count: 3, serial: "00A0FFFF", out: dir, kmc: "../../testdata/keys/kmc.json"}, &out))
	require.Equal(t, dir+"/blank-00A0FFFF.json  chip 4790516800A0FFFF\n"+
		dir+"/blank-00A10000.json  chip 4790516800A10000\n"+
		dir+"/blank-00A10001.json  chip 4790516800A10001\n", out.String())
	kdds := map[string]bool{}
	for _, name := range []string{"blank-00A0FFFF.json", "blank-00A10000.json", "blank-00A10001.json"} {
		c, err := cardsim.Load(filepath.Join(dir, name))
		require.NoError(t, err)
		img, err := c.Image()
		require.NoError(t, err)
		require.Equal(t, cardsim.KindBlank, img.Kind)
		kdds[img.GP.KDD.String()] = true
	}
	require.Len(t, kdds, 3, "each card its own key diversification data")
	// Serial 00000001 from the test KMC is testdata/cards/blank.json.
	one := t.TempDir()
	out.Reset()
	require.NoError(t, runCardSimBlanks(blanksOptions{count: 1, serial: "0x00000001", out: one, kmc: "../../testdata/keys/kmc.json", asJSON: true}, &out))
	require.JSONEq(t, `[{"file":"`+one+`/blank-00000001.json","chip_serial":"4790516800000001"}]`, out.String())
	blank, err := cardsim.LoadImage("../../testdata/cards/blank.json")
	require.NoError(t, err)
	made, err := cardsim.LoadImage(filepath.Join(one, "blank-00000001.json"))
	require.NoError(t, err)
	require.Equal(t, blank, made)

	for _, tc := range []struct {
		name string
		o    blanksOptions
		code int
		hint string
	}{
		{"exists", blanksOptions{count: 1, serial: "00A10001", out: dir, kmc: "../../testdata/keys/kmc.json"}, exitFailure, "exists: nothing written"},
		{"no serial", blanksOptions{count: 1, out: dir}, exitUsage, "--serial and --out are required"},
		{"bad serial", blanksOptions{count: 1, serial: "A1", out: dir}, exitUsage, "8 hex digits"},
		{"too many", blanksOptions{count: 0, serial: "00000001", out: dir}, exitUsage, "--count 0"},
		{"past FFFFFFFF", blanksOptions{count: 2, serial: "FFFFFFFF", out: dir, kmc: "../../testdata/keys/kmc.json"}, exitUsage, "FFFFFFFF"},
		{"no KMC", blanksOptions{count: 1, serial: "00000001", out: dir, kmc: "/nonexistent/kmc.json"}, exitUsage, "give --kmc FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runCardSimBlanks(tc.o, io.Discard)
			require.Equal(t, tc.code, exitCode(err), "%v", err)
			require.ErrorContains(t, err, tc.hint)
		})
	}
	t.Run("force overwrites", func(t *testing.T) {
		require.NoError(t, runCardSimBlanks(blanksOptions{count: 1, serial: "00A10001", out: dir, kmc: "../../testdata/keys/kmc.json", force: true}, io.Discard))
	})
}

// FuzzParseChipSerial: --serial gives a serial or an error, and a serial
// read back prints as the 8 hex digits given (upper case).
func FuzzParseChipSerial(f *testing.F) {
	for _, s := range []string{"00A00001", "0xFFFFFFFF", "00a0000g", "", " 00000001 ", "123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseChipSerial(s)
		if err != nil {
			return
		}
		h := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
		require.Equal(t, strings.ToUpper(h), fmt.Sprintf("%08X", n))
	})
}
