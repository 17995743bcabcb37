package cardsim_test

import (
	"context"
	"fmt"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
)

// Example puts the default software card in the "sim" reader and selects
// its PPSE, then pulls the card out after one more APDU.
func Example() {
	card, err := cardsim.Load("../../testdata/cards/default.json")
	if err != nil {
		panic(err)
	}
	readers := cardsim.NewReaders(card)
	ctx := context.Background()
	conn, err := readers.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
	if err != nil {
		panic(err)
	}
	resp, err := cardio.Transmit(ctx, conn, cardio.Command{INS: cardio.INSSelect, P1: 4, Data: []byte("2PAY.SYS.DDF01"), Le: 256})
	fmt.Printf("%04X %v\n", resp.SW, err)

	card.RemoveAfter(0)
	_, err = cardio.Transmit(ctx, conn, cardio.Command{INS: cardio.INSSelect, P1: 4, Data: []byte("2PAY.SYS.DDF01"), Le: 256})
	fmt.Println(err)
	// Output:
	// 9000 <nil>
	// transmit 00A4: cardio: card removed
}
