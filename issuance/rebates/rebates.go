package rebates

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Rate is what a bank gives per product: RateBP basis points of the net
// spending are donated to the foundation, which keeps FoundationBP basis
// points of the donation and returns the rest to the holder's city or
// university.
type Rate struct {
	ID            int64
	BankCode      string
	ProductCode   string
	RateBP        int
	FoundationBP  int
	EffectiveFrom string // YYYY-MM-DD China, inclusive
	EffectiveTo   string // YYYY-MM-DD exclusive; "" open-ended
	ActorRole     issuance.Role
	TokenID       int64
	CreatedAt     time.Time
}

// covers reports whether r is in force on day.
func (r Rate) covers(day string) bool {
	return r.EffectiveFrom <= day && (r.EffectiveTo == "" || day < r.EffectiveTo)
}

// Aggregate is one group of advices as the store sums them: one China
// day, one organisation path (the holder's organisation when the advice
// came), one bank and product, one kind.
type Aggregate struct {
	Day         string
	OrgPath     string // "" for a card that is not ours
	BankCode    string
	ProductCode string
	Kind        string
	Count       int64
	Amount      int64 // fen, as the advices carry it (positive)
}

// Advice is one advice as Check reads it.
type Advice struct {
	ID          int64
	Day         string
	OrgPath     string
	BankCode    string
	ProductCode string
	Kind        string
	Amount      int64
}

// Beneficiary is an organisation statements are made for: a city or a
// university.
type Beneficiary struct {
	OrgID int64
	Path  string
	Name  string
	Kind  issuance.OrgKind
}

// Line is one statement line: the advices of one bank, product and rate.
type Line struct {
	BankCode      string
	ProductCode   string
	RateID        int64
	RateBP        int
	FoundationBP  int
	Advices       int64
	SpendingFen   int64
	RefundFen     int64
	ReversalFen   int64
	NetFen        int64 // SpendingFen − RefundFen − ReversalFen
	DonationFen   int64 // round(NetFen × RateBP / 10000)
	FoundationFen int64 // round(DonationFen × FoundationBP / 10000)
	ReturnedFen   int64 // DonationFen − FoundationFen
}

// Statement is one city's or university's statement of a month: its
// totals are the sums of its lines.
type Statement struct {
	ID          int64
	Month       string // YYYY-MM
	OrgID       int64
	OrgPath     string
	OrgKind     issuance.OrgKind
	OrgName     string
	GeneratedAt time.Time
	Totals      Line // the sums of Lines (bank, product and rate empty)
	Lines       []Line
}

// Month is a generated month.
type Month struct {
	Month      string
	Advices    int64 // every advice of the month, attributed or not
	NetFen     int64 // the statements' net total
	Statements int
	// Unattributed counts advices no statement carries: cards that are
	// not ours, or holders whose organisation lies in no city or
	// university.
	Unattributed int64
	GeneratedAt  time.Time
}

// MissingRateError says that advices need a rate that is not set.
type MissingRateError struct {
	BankCode, ProductCode, Day string
}

// Error implements error.
func (e *MissingRateError) Error() string {
	return fmt.Sprintf("no rebate rate for bank %s product %s on %s", e.BankCode, e.ProductCode, e.Day)
}

// ErrMissingRate is what *MissingRateError unwraps to.
var ErrMissingRate = errors.New("rebates: missing rate")

// Unwrap makes errors.Is(err, ErrMissingRate) true.
func (e *MissingRateError) Unwrap() error { return ErrMissingRate }

// ErrOverflow means a sum left the int64 range (not reachable with real
// money: 9×10^14 CNY).
var ErrOverflow = errors.New("rebates: amount out of range")

// RoundBP returns n × bp / 10000 rounded to the nearest fen, halves away
// from zero (so a refund mirrors the spending it undoes). It is the one
// rounding rule of the statements.
func RoundBP(n int64, bp int) (int64, error) {
	neg := n < 0
	if neg {
		n = -n
	}
	if n > math.MaxInt64/10000 || n < 0 {
		return 0, ErrOverflow
	}
	q := (n*int64(bp) + 5000) / 10000
	if neg {
		q = -q
	}
	return q, nil
}

// sign returns the signed amount of an advice kind: refunds and reversals
// are subtracted.
func signed(kind string, amount int64) (spending, refund, reversal int64) {
	switch kind {
	case issuance.SpendingKindRefund:
		return 0, amount, 0
	case issuance.SpendingKindReversal:
		return 0, 0, amount
	}
	return amount, 0, 0
}

// beneficiaryOf returns the deepest city or university on path.
func beneficiaryOf(path string, byID map[int64]Beneficiary) (Beneficiary, bool) {
	ids := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(ids) - 1; i >= 0; i-- {
		id, err := strconv.ParseInt(ids[i], 10, 64)
		if err != nil {
			continue
		}
		if b, ok := byID[id]; ok {
			return b, true
		}
	}
	return Beneficiary{}, false
}

// rateOn returns the rate of bank and product in force on day.
func rateOn(rates []Rate, bank, product, day string) (Rate, bool) {
	for _, r := range rates {
		if r.BankCode == bank && r.ProductCode == product && r.covers(day) {
			return r, true
		}
	}
	return Rate{}, false
}

type lineKey struct {
	org           int64
	bank, product string
	rate          int64
}

// Compute makes the statements of month from its advices' aggregates (any
// grouping finer than day × org path × bank × product × kind gives the
// same result, including one advice per aggregate: Check relies on it):
// each advice goes to the deepest city or university on its org path
// (none: unattributed) and to the rate of its bank and product in force
// on its day; a line sums its advices by kind, nets them and then applies
// RoundBP once for the donation and once for the foundation's share; a
// statement's totals are the sums of its lines. Statements are in org
// path order, lines in bank, product, rate start order.
func Compute(month string, aggs []Aggregate, rates []Rate, bens []Beneficiary) (Month, []Statement, error) {
	m := Month{Month: month}
	byID := make(map[int64]Beneficiary, len(bens))
	for _, b := range bens {
		byID[b.OrgID] = b
	}
	rateByID := make(map[int64]Rate, len(rates))
	for _, r := range rates {
		rateByID[r.ID] = r
	}
	lines := map[lineKey]*Line{}
	for _, a := range aggs {
		m.Advices += a.Count
		b, ok := beneficiaryOf(a.OrgPath, byID)
		if !ok || a.OrgPath == "" {
			m.Unattributed += a.Count
			continue
		}
		r, ok := rateOn(rates, a.BankCode, a.ProductCode, a.Day)
		if !ok {
			return Month{}, nil, &MissingRateError{BankCode: a.BankCode, ProductCode: a.ProductCode, Day: a.Day}
		}
		k := lineKey{b.OrgID, a.BankCode, a.ProductCode, r.ID}
		l := lines[k]
		if l == nil {
			l = &Line{BankCode: a.BankCode, ProductCode: a.ProductCode, RateID: r.ID, RateBP: r.RateBP, FoundationBP: r.FoundationBP}
			lines[k] = l
		}
		sp, rf, rv := signed(a.Kind, a.Amount)
		l.Advices += a.Count
		l.SpendingFen += sp
		l.RefundFen += rf
		l.ReversalFen += rv
		if l.SpendingFen < 0 || l.RefundFen < 0 || l.ReversalFen < 0 {
			return Month{}, nil, ErrOverflow
		}
	}
	byOrg := map[int64]*Statement{}
	for k, l := range lines {
		l.NetFen = l.SpendingFen - l.RefundFen - l.ReversalFen
		var err error
		if l.DonationFen, err = RoundBP(l.NetFen, l.RateBP); err != nil {
			return Month{}, nil, err
		}
		if l.FoundationFen, err = RoundBP(l.DonationFen, l.FoundationBP); err != nil {
			return Month{}, nil, err
		}
		l.ReturnedFen = l.DonationFen - l.FoundationFen
		st := byOrg[k.org]
		if st == nil {
			b := byID[k.org]
			st = &Statement{Month: month, OrgID: b.OrgID, OrgPath: b.Path, OrgKind: b.Kind, OrgName: b.Name}
			byOrg[k.org] = st
		}
		st.Lines = append(st.Lines, *l)
	}
	out := make([]Statement, 0, len(byOrg))
	for _, st := range byOrg {
		slices.SortFunc(st.Lines, func(x, y Line) int {
			return cmp.Or(cmp.Compare(x.BankCode, y.BankCode), cmp.Compare(x.ProductCode, y.ProductCode),
				cmp.Compare(rateByID[x.RateID].EffectiveFrom, rateByID[y.RateID].EffectiveFrom))
		})
		st.Totals = sum(st.Lines)
		m.NetFen += st.Totals.NetFen
		out = append(out, *st)
	}
	slices.SortFunc(out, func(x, y Statement) int { return cmp.Compare(x.OrgPath, y.OrgPath) })
	m.Statements = len(out)
	return m, out, nil
}

// sum adds lines up (the money columns and the advice count).
func sum(lines []Line) Line {
	var t Line
	for _, l := range lines {
		t.Advices += l.Advices
		t.SpendingFen += l.SpendingFen
		t.RefundFen += l.RefundFen
		t.ReversalFen += l.ReversalFen
		t.NetFen += l.NetFen
		t.DonationFen += l.DonationFen
		t.FoundationFen += l.FoundationFen
		t.ReturnedFen += l.ReturnedFen
	}
	return t
}

// MonthRange returns the China dates [from, to) of month (YYYY-MM) and the
// instant it ends.
func MonthRange(month string) (from, to string, end time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", month, issuance.ChinaTime)
	if err != nil || t.Format("2006-01") != month {
		return "", "", time.Time{}, issuance.Invalid("month", "must be YYYY-MM")
	}
	if t.Year() < issuance.MinYear || t.Year() > issuance.MaxYear {
		return "", "", time.Time{}, issuance.Invalid("month", "year out of range")
	}
	next := t.AddDate(0, 1, 0)
	return t.Format(time.DateOnly), next.Format(time.DateOnly), next, nil
}

// PreviousMonth returns the month before t's month in China (YYYY-MM):
// the last ended month at t.
func PreviousMonth(t time.Time) string {
	c := t.In(issuance.ChinaTime)
	return time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, issuance.ChinaTime).AddDate(0, -1, 0).Format("2006-01")
}

// Mismatch is one difference Check found between a stored statement and
// the recomputation from its advices.
type Mismatch struct {
	OrgID  int64
	Detail string
}

// Check recomputes month advice by advice (each advice its own
// aggregate) with the rates and beneficiaries given and compares the
// result with the stored statements field by field: it returns every
// difference (none when they reconcile).
func Check(month string, advices []Advice, rates []Rate, bens []Beneficiary, stored []Statement) ([]Mismatch, error) {
	aggs := make([]Aggregate, len(advices))
	for i, a := range advices {
		aggs[i] = Aggregate{Day: a.Day, OrgPath: a.OrgPath, BankCode: a.BankCode, ProductCode: a.ProductCode,
			Kind: a.Kind, Count: 1, Amount: a.Amount}
	}
	_, want, err := Compute(month, aggs, rates, bens)
	if err != nil {
		return nil, err
	}
	var out []Mismatch
	got := map[int64]Statement{}
	for _, s := range stored {
		got[s.OrgID] = s
	}
	for _, w := range want {
		g, ok := got[w.OrgID]
		delete(got, w.OrgID)
		switch {
		case !ok:
			out = append(out, Mismatch{w.OrgID, "no stored statement for advices of this organisation"})
		case g.Totals != w.Totals:
			out = append(out, Mismatch{w.OrgID, fmt.Sprintf("totals differ: stored %+v, advices %+v", g.Totals, w.Totals)})
		case !slices.Equal(g.Lines, w.Lines):
			out = append(out, Mismatch{w.OrgID, "lines differ"})
		case g.Totals != sum(g.Lines):
			out = append(out, Mismatch{w.OrgID, "stored totals are not the sum of the stored lines"})
		}
	}
	for id := range got {
		out = append(out, Mismatch{id, "stored statement without advices"})
	}
	slices.SortFunc(out, func(x, y Mismatch) int { return cmp.Compare(x.OrgID, y.OrgID) })
	return out, nil
}
