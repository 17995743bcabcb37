package issuance

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"time"
)

// RandomNumbers makes application numbers of the form
// Prefix + yyyymmdd (UTC+8, China Standard Time) + 8 random digits, e.g.
// GD2026112304718265: readable over the phone, and with 10^8 numbers a day
// not guessable (the progress lookup also needs the ID number).
type RandomNumbers struct {
	Prefix string
	Rand   io.Reader // nil: crypto/rand
}

// ChinaTime is China Standard Time (UTC+8, no daylight saving): the zone
// of every China date volcard keeps (application numbers, spending days,
// insurance days, rebate months, card expiry). Use it instead of a local
// time.FixedZone.
var ChinaTime = time.FixedZone("CST", 8*3600)

var hundredMillion = big.NewInt(100_000_000)

// ApplicationNumber implements NumberGenerator.
func (g RandomNumbers) ApplicationNumber(now time.Time) (string, error) {
	r := g.Rand
	if r == nil {
		r = rand.Reader
	}
	n, err := rand.Int(r, hundredMillion)
	if err != nil {
		return "", fmt.Errorf("application number: %w", err)
	}
	return fmt.Sprintf("%s%s%08d", g.Prefix, now.In(ChinaTime).Format("20060102"), n.Int64()), nil
}
