package pcsc_test

import (
	"testing"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
)

// BenchmarkAPDURoundTripPCSC measures one 2-byte command through
// pcscd + the vpcd driver + the vpcd client and back.
func BenchmarkAPDURoundTripPCSC(b *testing.B) {
	r := pcsctest.Start(b)
	slot := pcsctest.Slot(b)
	pcsctest.Insert(b, slot, &pcsctest.EchoCard{})
	card, err := r.Connect(b.Context(), slot.Reader, cardio.ShareExclusive)
	if err != nil {
		b.Fatal(err)
	}
	defer card.Disconnect(b.Context())
	cmd := []byte{0x00, 0x00}
	ctx := b.Context()
	for b.Loop() {
		if _, err := card.Transmit(ctx, cmd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadPCSC measures a full check-in read (SELECT PPSE, SELECT AID,
// GPO, READ RECORDs, INTERNAL AUTHENTICATE with DDA verification) of the
// software card through pcscd + vpcd. Between reads, with the timer
// stopped, it measures the APDU round trip (the same 2-byte command as
// BenchmarkAPDURoundTripPCSC) on the same connection, so the ratio
// read time ÷ (APDUs × round trip) comes from one run under one load.
func BenchmarkReadPCSC(b *testing.B) {
	img := loadImage(b)
	opts := readOptions(b)
	opts.Fast = true
	_, _, card := connectSim(b, newSimCard(b, img))
	ctx := b.Context()
	ping := []byte{0x00, 0x00}

	var apdus int
	var rtTotal time.Duration
	var rtCount int
	for b.Loop() {
		f, err := emv.Read(ctx, card, opts)
		if err != nil {
			b.Fatal(err)
		}
		if !f.ODA.Verified {
			b.Fatalf("ODA not verified: %+v", f.ODA)
		}
		apdus = f.APDUs
		b.StopTimer()
		start := time.Now()
		for range apdus {
			if _, err := card.Transmit(ctx, ping); err != nil {
				b.Fatal(err)
			}
		}
		rtTotal += time.Since(start)
		rtCount += apdus
		b.StartTimer()
	}
	perRead := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	rt := float64(rtTotal.Nanoseconds()) / float64(rtCount)
	b.ReportMetric(float64(apdus), "APDUs/read")
	b.ReportMetric(rt, "ns/roundtrip")
	b.ReportMetric(perRead/(float64(apdus)*rt), "read/(APDUs*rt)")
}
