package cardio_test

import (
	"context"
	"fmt"

	"github.com/volcard/volcard/cardio"
)

// fixedCard answers every command with one canned response.
type fixedCard struct{ resp []byte }

func (f fixedCard) Transmit(context.Context, []byte) ([]byte, error) { return f.resp, nil }
func (f fixedCard) ATR() []byte                                      { return nil }
func (f fixedCard) Disconnect(context.Context) error                 { return nil }

// Example fills a PDOL, parses an AFL and shows how status words become errors.
func Example() {
	pdol, _ := cardio.ParseDOL([]byte{0x9F, 0x02, 0x06, 0x5F, 0x2A, 0x02, 0x9F, 0x37, 0x04})
	data := pdol.Build(map[string][]byte{"5F2A": {0x01, 0x56}, "9F37": {1, 2, 3, 4}})
	fmt.Printf("PDOL data %X (%d bytes)\n", data, pdol.Len())

	afl, _ := cardio.ParseAFL([]byte{0x08, 1, 1, 1, 0x18, 1, 2, 0})
	fmt.Println("records to read:", cardio.RecordCount(afl))

	_, err := cardio.Transmit(context.Background(), fixedCard{resp: []byte{0x6A, 0x82}},
		cardio.Command{INS: cardio.INSSelect, P1: 4, Data: []byte("2PAY.SYS.DDF01"), Le: 256})
	fmt.Println(err)
	// Output:
	// PDOL data 000000000000015601020304 (12 bytes)
	// records to read: 3
	// transmit 00A40400: cardio: status 6A82 (file not found)
}
