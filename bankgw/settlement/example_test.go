package settlement_test

import (
	"bytes"
	"os"
	"time"

	"github.com/volcard/volcard/bankgw/settlement"
)

// Example writes the worked example of docs/bank-interface.md (section 12):
// BOC's file of 2026-12-06 with two cards, under the all-0x33 TEST
// reconciliation key.
func Example() {
	k, err := settlement.DeriveKeys(bytes.Repeat([]byte{0x33}, settlement.KeySize))
	if err != nil {
		panic(err)
	}
	w, err := settlement.NewWriter(os.Stdout, k, settlement.Header{BankCode: "BOC",
		Date: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Rows: 2})
	if err != nil {
		panic(err)
	}
	for _, r := range []settlement.Row{
		{ApplicationNumber: "VC2026120512345678", ProductCode: "GDRVBOC", LastFour: "0013",
			PANMAC: k.PANMAC("6217850000000000013"), State: settlement.StateActive,
			Activated: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
		{ApplicationNumber: "VC2026120587654321", ReplaceSeq: 1, ProductCode: "GDRVBOC", LastFour: "0021",
			PANMAC: k.PANMAC("6217850000000000021"), State: settlement.StateBlocked},
	} {
		if err := w.Write(r); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	// Output:
	// H,VOLCARD-SETTLEMENT,1,BOC,2026-12-06,2
	// D,VC2026120512345678,0,GDRVBOC,0013,0a34227b94c37aaa937467772fb22d48,A,2026-12-06
	// D,VC2026120587654321,1,GDRVBOC,0021,22ac134451adf95b3310d0db9318c559,B,
	// T,2,960afba572215491902d2818b81eb1bf389dc971b4568694d48a3809e1aeb0ce
}
