package bankgw_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/volcard/volcard/bankgw"
)

// FuzzReadMessage feeds arbitrary bytes from the bank's side of the
// connection (length header, frame, MAC) to the Codec: it returns a
// message, a *FrameError or an I/O error, never panics; errors and log
// lines repeat no digit run of the frame (they hold no field values), and
// the description of a message masks the PAN (field 2).
func FuzzReadMessage(f *testing.F) {
	seedFrames(f)
	f.Add([]byte{0, 0})
	f.Add([]byte{0xFF, 0xFF, 0x30})
	macKey := bytes.Repeat([]byte{0x11}, bankgw.MACKeySize)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		for _, key := range [][]byte{nil, macKey} {
			c, err := bankgw.NewCodec(key, log)
			if err != nil {
				t.Fatal(err)
			}
			in := binary.BigEndian.AppendUint16(nil, uint16(min(len(frame), 0xFFFF)))
			in = append(in, frame...)
			msg, err := c.ReadMessage(bytes.NewReader(in))
			if err != nil {
				var fe *bankgw.FrameError
				if errors.As(err, &fe) && fe.Length != min(len(frame), 0xFFFF) {
					t.Fatalf("frame error of length %d for %d bytes", fe.Length, len(frame))
				}
				checkNoCardData(t, frame, err.Error()+logs.String())
				continue
			}
			if p, ok := msg.GetFields()[bankgw.FieldPAN]; ok {
				s, _ := p.String()
				if len(s) >= 13 && strings.Contains(bankgw.Describe(msg), s) {
					t.Fatalf("Describe shows the PAN")
				}
			}
		}
	})
}

// checkNoCardData fails when out repeats a PAN-like run of 13 or more
// digits found in the frame.
func checkNoCardData(t *testing.T, frame []byte, out string) {
	t.Helper()
	digits := 0
	for i, b := range frame {
		if b >= '0' && b <= '9' {
			digits++
			continue
		}
		if digits >= 13 && strings.Contains(out, string(frame[i-digits:i])) {
			t.Fatalf("output repeats %d digits of the frame: %s", digits, out)
		}
		digits = 0
	}
}
