package paytest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// TVR bits (EMV Book 3, Annex C5) the kernel sets: [byte][mask].
var (
	tvrODANotPerformed  = [2]byte{0, 0x80}
	tvrSDAFailed        = [2]byte{0, 0x40}
	tvrDDAFailed        = [2]byte{0, 0x08}
	tvrVersionsDiffer   = [2]byte{1, 0x80}
	tvrExpired          = [2]byte{1, 0x40}
	tvrNotYetEffective  = [2]byte{1, 0x20}
	tvrServiceNotAllow  = [2]byte{1, 0x10}
	tvrNewCard          = [2]byte{1, 0x08}
	tvrCVMFailed        = [2]byte{2, 0x80}
	tvrPINLimitExceeded = [2]byte{2, 0x20}
	tvrFloorLimit       = [2]byte{3, 0x80}
	tvrLCOLExceeded     = [2]byte{3, 0x40}
	tvrUCOLExceeded     = [2]byte{3, 0x20}
	tvrRandomSelection  = [2]byte{3, 0x10}
	tvrIssuerAuthFailed = [2]byte{4, 0x40}
)

type tvr [5]byte

func (t *tvr) set(b [2]byte)     { t[b[0]] |= b[1] }
func (t tvr) has(b [2]byte) bool { return t[b[0]]&b[1] != 0 }
func (t tvr) matches(c []byte) bool {
	for i := range t {
		if i < len(c) && t[i]&c[i] != 0 {
			return true
		}
	}
	return false
}

// kernel is a contact EMV terminal for tests: an attended, online-capable
// POS (terminal type 22) that supports offline plaintext PIN, signature
// and no CVM, with terminal action codes all zero (the issuer's codes
// decide) and the bank reached through bankgw.
type kernel struct {
	card  cardio.Card
	cas   emv.CAKeys
	bank  *bankgw.Client
	now   time.Time
	rand  io.Reader
	pin   string
	floor int64 // floor limit, fen
	// randomPercent is the target percentage of random selection for
	// amounts under the floor limit (0: never).
	randomPercent int
	// offline makes the bank unreachable (unable to go online).
	offline bool
}

// outcome is what one transaction did.
type outcome struct {
	facts         *emv.CardFacts
	tvr           tvr
	cvmResults    []byte
	first, second *emv.ACResponse
	online        bool
	auth          *bankgw.AuthorizationResult
	issuerAuthErr error
	approved      bool
}

func (o *outcome) String() string {
	s := fmt.Sprintf("TVR %X, first %s", o.tvr[:], o.first.Type())
	if o.auth != nil {
		s += ", bank " + o.auth.ResponseCode
	}
	if o.second != nil {
		s += ", second " + o.second.Type().String()
	}
	return s
}

func bcdAmount(n int64) []byte {
	b, _ := hex.DecodeString(fmt.Sprintf("%012d", n))
	return b
}

// transact runs one purchase of amount fen.
func (k *kernel) transact(ctx context.Context, amount int64) (*outcome, error) {
	o := &outcome{}
	un := make([]byte, 4)
	if _, err := io.ReadFull(k.rand, un); err != nil {
		return nil, err
	}
	term := map[string][]byte{
		"9F02": bcdAmount(amount), "9F03": bcdAmount(0), "9C": {0x00}, "9F35": {0x22}, "9F33": {0xE0, 0xA8, 0xC8},
		"9F09": {0x00, 0x30}, "9F4E": []byte("VOLCARD TEST SHOP"), "9F37": un,
	}
	// Application selection, GPO, READ RECORD and DDA (ODA errors come
	// back with the facts and go to the TVR).
	facts, err := emv.Read(ctx, k.card, emv.Options{CAKeys: k.cas, Fast: true, Now: func() time.Time { return k.now }, Rand: k.rand, Terminal: term})
	var odaErr *emv.ODAError
	if err != nil && !errors.As(err, &odaErr) {
		return nil, fmt.Errorf("read: %w", err)
	}
	o.facts = facts
	switch {
	case facts.ODA.Method == emv.ODANone:
		o.tvr.set(tvrODANotPerformed)
	case !facts.ODA.Verified && facts.ODA.Method == emv.ODADDA:
		o.tvr.set(tvrDDAFailed)
	case !facts.ODA.Verified:
		o.tvr.set(tvrSDAFailed)
	}

	// Processing restrictions.
	if v, ok := facts.Tag("9F08"); ok && hex.EncodeToString(v) != hex.EncodeToString(term["9F09"]) {
		o.tvr.set(tvrVersionsDiffer)
	}
	today := k.now.Truncate(24 * time.Hour)
	if facts.Expiry.Before(today) {
		o.tvr.set(tvrExpired)
	}
	if !facts.Effective.IsZero() && facts.Effective.After(today) {
		o.tvr.set(tvrNotYetEffective)
	}
	if auc, ok := facts.Tag("9F07"); ok && len(auc) == 2 && facts.IssuerCountry == 156 && (auc[0]&0x20 == 0 || auc[0]&0x01 == 0) {
		o.tvr.set(tvrServiceNotAllow) // domestic goods at a terminal other than an ATM
	}

	// Cardholder verification: the first rule whose method the terminal
	// supports and whose condition holds.
	o.cvmResults = []byte{0x3F, 0x00, 0x01} // no CVM performed
	if facts.AIP.CardholderVerification() {
		if err := k.verify(ctx, o); err != nil {
			return nil, err
		}
	}

	// Terminal risk management: floor limit, random selection, velocity.
	if facts.AIP.TerminalRiskManagement() {
		if amount >= k.floor {
			o.tvr.set(tvrFloorLimit)
		} else if k.randomPercent > 0 {
			b := make([]byte, 1)
			if _, err := io.ReadFull(k.rand, b); err != nil {
				return nil, err
			}
			if int(b[0])%100+1 <= k.randomPercent {
				o.tvr.set(tvrRandomSelection)
			}
		}
		lcol, ok1 := facts.Tag("9F14")
		ucol, ok2 := facts.Tag("9F23")
		if ok1 && ok2 && len(lcol) == 1 && len(ucol) == 1 {
			atc, err := emv.ATC(ctx, k.card)
			if err != nil {
				return nil, err
			}
			last, err := getData2(ctx, k.card, 0x9F13)
			if err != nil {
				return nil, err
			}
			if last == 0 {
				o.tvr.set(tvrNewCard)
			}
			if atc-last > int(lcol[0]) {
				o.tvr.set(tvrLCOLExceeded)
			}
			if atc-last > int(ucol[0]) {
				o.tvr.set(tvrUCOLExceeded)
			}
		}
	}

	// Terminal action analysis (TACs zero: the issuer action codes).
	iac := func(tag string) []byte { v, _ := facts.Tag(tag); return v }
	want := emv.TC
	switch {
	case o.tvr.matches(iac("9F0E")):
		want = emv.AAC
	case !k.offline && o.tvr.matches(iac("9F0F")):
		want = emv.ARQC
	case k.offline && o.tvr.matches(iac("9F0D")):
		want = emv.AAC
	}

	// First GENERATE AC.
	data, err := emv.Options{Terminal: term}.TerminalData(k.now)
	if err != nil {
		return nil, err
	}
	data["9F37"], data["95"], data["9F34"] = un, o.tvr[:], o.cvmResults
	cdol1, err := dolOf(facts, "8C")
	if err != nil {
		return nil, err
	}
	first, err := emv.GenerateAC(ctx, k.card, want, cdol1.Build(data))
	if err != nil {
		return nil, err
	}
	o.first = &first
	if first.Type() != emv.ARQC {
		o.approved = first.Type() == emv.TC
		return o, nil
	}

	// Online: the ARQC to the issuer, its ARPC to the card.
	arc := []byte("Z3")
	var issuerAuth []byte
	if !k.offline {
		res, err := k.bank.Authorize(ctx, k.authRequest(facts, data, first, amount))
		if err == nil {
			o.online, o.auth = true, &res
			arc, issuerAuth = res.ARC, res.IssuerAuthData
		}
	}
	if !o.online && !o.tvr.matches(iac("9F0D")) {
		arc = []byte("Y3")
	}
	if o.online && issuerAuth != nil && facts.AIP.IssuerAuthentication() {
		o.issuerAuthErr = emv.ExternalAuthenticate(ctx, k.card, issuerAuth)
		if o.issuerAuthErr != nil {
			o.tvr.set(tvrIssuerAuthFailed)
		}
	}
	data["8A"], data["95"] = arc, o.tvr[:]
	cdol2, err := dolOf(facts, "8D")
	if err != nil {
		return nil, err
	}
	second := emv.TC
	if string(arc) == "Z3" || o.online && !emv.ARCApproves(arc) {
		second = emv.AAC
	}
	r2, err := emv.GenerateAC(ctx, k.card, second, cdol2.Build(data))
	if err != nil {
		return nil, err
	}
	o.second = &r2
	o.approved = r2.Type() == emv.TC
	return o, nil
}

// verify applies the CVM list (8E).
func (k *kernel) verify(ctx context.Context, o *outcome) error {
	for _, r := range o.facts.CVMList.Rules {
		supported := r.Method == 0x01 || r.Method == 0x1E || r.Method == 0x1F
		if r.Condition != 0x00 && !(r.Condition == 0x03 && supported) {
			continue
		}
		if !supported {
			if !r.ApplyNext {
				break
			}
			continue
		}
		o.cvmResults = []byte{r.Method, r.Condition, 0x00}
		switch r.Method {
		case 0x01: // offline plaintext PIN
			err := emv.VerifyPIN(ctx, k.card, k.pin)
			switch {
			case err == nil:
				o.cvmResults[2] = 0x02
				return nil
			case errors.Is(err, cardio.ErrBlocked) || errors.Is(err, cardio.ErrWrongPIN):
				var pe *cardio.PINError
				if errors.Is(err, cardio.ErrBlocked) || errors.As(err, &pe) && pe.TriesLeft == 0 {
					o.tvr.set(tvrPINLimitExceeded)
				}
				o.cvmResults[2] = 0x01
			default:
				return fmt.Errorf("verify PIN: %w", err)
			}
		case 0x1E: // signature
			o.cvmResults[2] = 0x00 // unknown until the receipt is signed
			return nil
		case 0x1F:
			o.cvmResults[2] = 0x02
			return nil
		}
		if !r.ApplyNext {
			break
		}
	}
	o.tvr.set(tvrCVMFailed)
	return nil
}

// authRequest builds the 0100 from the card's answer and the data it covers.
func (k *kernel) authRequest(f *emv.CardFacts, data map[string][]byte, r emv.ACResponse, amount int64) bankgw.AuthorizationRequest {
	icc := bankgw.ICCData{
		{Tag: "9F26", Value: r.Cryptogram}, {Tag: "9F27", Value: []byte{r.CID}}, {Tag: "9F10", Value: r.IAD},
		{Tag: "9F37", Value: data["9F37"]}, {Tag: "9F36", Value: []byte{byte(r.ATC >> 8), byte(r.ATC)}},
		{Tag: "95", Value: data["95"]}, {Tag: "9A", Value: data["9A"]}, {Tag: "9C", Value: data["9C"]},
		{Tag: "9F02", Value: data["9F02"]}, {Tag: "9F03", Value: data["9F03"]}, {Tag: "5F2A", Value: data["5F2A"]},
		{Tag: "9F1A", Value: data["9F1A"]}, {Tag: "82", Value: f.AIP[:]}, {Tag: "9F34", Value: data["9F34"]},
		{Tag: "9F35", Value: data["9F35"]}, {Tag: "9F33", Value: data["9F33"]}, {Tag: "84", Value: f.AID},
	}
	return bankgw.AuthorizationRequest{PAN: f.PAN.Digits(), PSN: "0" + f.PSN, Expiry: f.Expiry.Format("0601"),
		Amount: amount, ICC: icc, At: k.now}
}

func dolOf(f *emv.CardFacts, tag string) (cardio.DOL, error) {
	raw, ok := f.Tag(tag)
	if !ok {
		return nil, fmt.Errorf("card has no %s: %w", tag, emv.ErrMissingData)
	}
	return cardio.ParseDOL(raw)
}

// getData2 reads a 2-byte GET DATA object as a number.
func getData2(ctx context.Context, card cardio.Card, tag uint16) (int, error) {
	r, err := cardio.Transmit(ctx, card, cardio.Command{CLA: 0x80, INS: cardio.INSGetData, P1: byte(tag >> 8), P2: byte(tag), Le: 256})
	if err != nil {
		return 0, err
	}
	if len(r.Data) != 5 {
		return 0, fmt.Errorf("GET DATA %04X: %w", tag, emv.ErrMalformedData)
	}
	return int(r.Data[3])<<8 | int(r.Data[4]), nil
}
