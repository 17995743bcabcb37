package vpcd_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/vpcd"
)

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{name: "control ATR", in: []byte{0, 1, 4}, want: []byte{4}},
		{name: "APDU", in: []byte{0, 4, 0x00, 0x84, 0x00, 0x00}, want: []byte{0x00, 0x84, 0x00, 0x00}},
		{name: "clean end", in: nil, wantErr: io.EOF},
		{name: "half header", in: []byte{0}, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated payload", in: []byte{0, 5, 1, 2}, wantErr: io.ErrUnexpectedEOF},
		{name: "header only", in: []byte{0, 5}, wantErr: io.ErrUnexpectedEOF},
		{name: "empty frame", in: []byte{0, 0}, wantErr: vpcd.ErrEmptyFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vpcd.ReadFrame(bytes.NewReader(tt.in))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tt.want, got))
		})
	}
}

func TestReadFrameFromFile(t *testing.T) {
	// testdata/frames.bin holds a captured driver session: ATR request,
	// power on, SELECT PPSE.
	data, err := os.ReadFile(filepath.Join("testdata", "frames.bin"))
	require.NoError(t, err)
	r := bytes.NewReader(data)
	var got [][]byte
	for {
		p, err := vpcd.ReadFrame(r)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, p)
	}
	require.Len(t, got, 3)
	require.Equal(t, []byte{vpcd.CtrlATR}, got[0])
	require.Equal(t, []byte{vpcd.CtrlPowerOn}, got[1])
	require.Equal(t, byte(0xA4), got[2][1])
}

func TestWriteFrame(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    []byte
		wantErr error
	}{
		{name: "status word", payload: []byte{0x90, 0x00}, want: []byte{0, 2, 0x90, 0x00}},
		{name: "empty", payload: nil, want: []byte{0, 0}},
		{name: "max", payload: make([]byte, vpcd.MaxPayload), want: append([]byte{0xFF, 0xFF}, make([]byte, vpcd.MaxPayload)...)},
		{name: "too long", payload: make([]byte, vpcd.MaxPayload+1), wantErr: vpcd.ErrFrameTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := vpcd.WriteFrame(&buf, tt.payload)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, buf.Bytes())
		})
	}
}

func FuzzReadFrame(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "frames.bin"))
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte{0, 1, 4})
	f.Add([]byte{0, 0})
	f.Add([]byte{0xFF, 0xFF, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for range 1000 {
			p, err := vpcd.ReadFrame(r)
			if err != nil {
				if errors.Is(err, vpcd.ErrEmptyFrame) {
					continue
				}
				return
			}
			if len(p) == 0 || len(p) > vpcd.MaxPayload {
				t.Fatalf("payload length %d", len(p))
			}
			// Round trip.
			var buf bytes.Buffer
			if err := vpcd.WriteFrame(&buf, p); err != nil {
				t.Fatal(err)
			}
			back, err := vpcd.ReadFrame(&buf)
			if err != nil || !bytes.Equal(back, p) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
