package banksim

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/settlement"
)

// WriteSettlement writes the ledger as the daily settlement file of
// docs/bank-interface.md for bankCode and business date (a civil date):
// one row per card the simulator issued, in PAN order, its PAN given only
// by the last four digits and the PAN MAC under k. A card activated on a
// day carries that day in China time (UTC+8).
func (s *Sim) WriteSettlement(w io.Writer, bankCode string, date time.Time, k settlement.Keys) error {
	l := s.Ledger()
	pans := slices.Sorted(maps.Keys(l.Cards))
	sw, err := settlement.NewWriter(w, k, settlement.Header{BankCode: bankCode, Date: date, Rows: len(pans)})
	if err != nil {
		return err
	}
	for _, pan := range pans {
		c := l.Cards[pan]
		r := settlement.Row{ApplicationNumber: c.ApplicationNumber, ReplaceSeq: c.ReplaceSeq,
			ProductCode: l.Applications[c.ApplicationNumber].Product, LastFour: pan[len(pan)-4:],
			PANMAC: k.PANMAC(pan), State: settlement.State(c.State)}
		if r.ProductCode == "" {
			r.ProductCode = "UNKNOWN"
		}
		if !c.ActivatedAt.IsZero() && (c.State == bankgw.CardActive || c.State == bankgw.CardBlocked) {
			y, m, d := c.ActivatedAt.In(chinaTime).Date()
			r.Activated = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		}
		if err := sw.Write(r); err != nil {
			return fmt.Errorf("banksim: settlement row for %s: %w", c, err)
		}
	}
	return sw.Close()
}

// chinaTime is UTC+8, the banks' business day.
var chinaTime = time.FixedZone("CST", 8*3600)
