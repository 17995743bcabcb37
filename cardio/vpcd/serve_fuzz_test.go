package vpcd

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/volcard/volcard/cardio"
)

// fuzzCard answers with the command's length and 9000; INS EE pulls it out.
type fuzzCard struct{}

func (fuzzCard) ATR() []byte { return []byte{0x3B, 0x00} }
func (fuzzCard) Reset()      {}
func (fuzzCard) Process(cmd []byte) ([]byte, error) {
	if len(cmd) > 1 && cmd[1] == 0xEE {
		return nil, cardio.ErrCardRemoved
	}
	return []byte{byte(len(cmd)), 0x90, 0x00}, nil
}

// FuzzServe feeds arbitrary driver traffic to the serving loop: it must
// answer well-formed frames, skip or reject the rest, and return (never
// panic or hang) once the driver side closes.
func FuzzServe(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "frames.bin"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte{0, 0, 0, 1, 4, 0, 1, 9})
	f.Add([]byte{0, 4, 0, 0xEE, 0, 0})
	f.Add([]byte{0xFF})
	log := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, in []byte) {
		driver, card := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- serveConn(context.Background(), card, fuzzCard{}, log) }()
		// Drain answers so the card side never blocks on a write.
		var answers bytes.Buffer
		drained := make(chan struct{})
		go func() { io.Copy(&answers, driver); close(drained) }()
		_, _ = driver.Write(in)
		driver.Close()
		<-done
		<-drained
		// Every answer is a well-formed frame.
		for answers.Len() > 0 {
			if _, err := ReadFrame(&answers); err != nil {
				t.Fatalf("malformed answer: %v", err)
			}
		}
	})
}
