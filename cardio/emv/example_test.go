package emv_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
)

// Example reads the default software card in process, as a check-in
// terminal does, and prints a masked APDU transcript.
func Example() {
	sc, err := cardsim.Load("../../testdata/cards/default.json")
	if err != nil {
		panic(err)
	}
	readers := cardsim.NewReaders(sc)
	ctx := context.Background()
	card, err := readers.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
	if err != nil {
		panic(err)
	}
	cas, err := emv.LoadCAKeys("../../testdata/keys/ca-public.json")
	if err != nil {
		panic(err)
	}
	tr := cardio.NewTranscript()
	facts, err := emv.Read(ctx, tr.Wrap(card), emv.Options{
		CAKeys: cas,
		Fast:   true,
		Now:    func() time.Time { return time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC) },
		Rand:   bytes.NewReader([]byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(facts.PAN, facts.CardholderName, facts.PreferredName, facts.IDNumber, facts.IDType)
	fmt.Println(facts.ODA.Method, facts.ODA.Verified, facts.APDUs, "APDUs")
	// Output:
	// 621785*********2349 张晓明 VOLUNTEER DEBIT 441402************ resident identity card (身份证)
	// DDA true 8 APDUs
}
