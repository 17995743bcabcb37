package cardsim

import (
	"crypto/subtle"
	"fmt"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// CVR bits (card verification results, the PBOC/VIS layout of 9F10 bytes
// 5-7; docs/card-profile.md, "Card risk management").
const (
	cvr1SecondAAC        byte = 0x00 // byte 1 b8-7: second GENERATE AC returned an AAC
	cvr1SecondTC         byte = 0x40 // … a TC
	cvr1SecondNone       byte = 0x80 // … second GENERATE AC not requested
	cvr1FirstTC          byte = 0x10 // byte 1 b6-5: first GENERATE AC returned a TC (00: AAC)
	cvr1FirstARQC        byte = 0x20 // … an ARQC
	cvr1IssuerAuthFailed byte = 0x08 // issuer authentication performed and failed
	cvr1PINPerformed     byte = 0x04 // offline PIN verification performed
	cvr1PINFailed        byte = 0x02 // offline PIN verification failed
	cvr1UnableOnline     byte = 0x01 // unable to go online

	cvr2OnlineIncomplete  byte = 0x80 // last online transaction not completed
	cvr2PINLimit          byte = 0x40 // PIN try limit exceeded
	cvr2Velocity          byte = 0x20 // exceeded velocity checking counters (lower consecutive offline limit)
	cvr2NewCard           byte = 0x10 // new card (no online transaction yet)
	cvr2LastIssuerAuth    byte = 0x08 // issuer authentication failure on last online transaction
	cvr2IssuerAuthNotDone byte = 0x04 // issuer authentication not performed after online authorization

	cvr3DDAPerformed byte = 0x02 // offline dynamic data authentication performed
)

// DGICardRisk is the volcard DGI of card risk management parameters:
// CIAC-decline (3) ‖ CIAC-online (3) ‖ CIAC-default (3) ‖ DKI (1) ‖ options
// (1: b1 issuer authentication required).
const DGICardRisk uint16 = 0x9200

// payApp is the compiled payment part of an application.
type payApp struct {
	state        *Payment // personalized values and live state
	cdol1, cdol2 cardio.DOL
	lcol, ucol   int // 9F14, 9F23 from the records; -1 when absent
}

// txn is the volatile state of the transaction in progress (cleared by
// SELECT, GET PROCESSING OPTIONS and reset).
type txn struct {
	first        bool // first GENERATE AC answered
	firstType    emv.CryptogramType
	second       bool
	extAuth      bool // EXTERNAL AUTHENTICATE received
	extAuthOK    bool
	arqc         []byte
	sk           []byte
	values       map[string][]byte // CDOL1 data of the first GENERATE AC
	pinTried     bool
	pinFailed    bool
	ddaDone      bool
	unableOnline bool
}

// compilePayment checks the payment part of an application and compiles
// what GENERATE AC needs from its records, FCI and GET DATA objects.
func compilePayment(a Application, ca *app) error {
	var logEntry []byte
	if f, ok := Find(a.FCI, "9F4D"); ok {
		logEntry = f.Value
	}
	var logFormat []byte
	for _, d := range a.Data {
		if d.Tag == "9F4F" {
			logFormat = d.Value
		}
	}
	if logEntry != nil {
		le, err := emv.ParseLogEntry(logEntry)
		if err != nil {
			return fmt.Errorf("log entry 9F4D: %w", ErrInvalidImage)
		}
		f, err := cardio.ParseDOL(logFormat)
		if err != nil || f.Len() == 0 {
			return fmt.Errorf("the FCI names a transaction log (9F4D) without a log format (GET DATA 9F4F): %w", ErrInvalidImage)
		}
		if ca.sfis[le.SFI] {
			return fmt.Errorf("log SFI %d is also a record file: %w", le.SFI, ErrInvalidImage)
		}
		ca.logSFI, ca.logMax, ca.logFormat = le.SFI, le.Records, f
	}
	p := a.Payment
	if p == nil {
		return nil
	}
	if len(p.AC) != 16 || len(p.SMI) != 0 && len(p.SMI) != 16 || len(p.SMC) != 0 && len(p.SMC) != 16 {
		return fmt.Errorf("payment keys must be 16 bytes: %w", ErrInvalidImage)
	}
	if len(p.CIACDecline) != 3 || len(p.CIACOnline) != 3 || len(p.CIACDefault) != 3 || p.DKI < 0 || p.DKI > 0xFF {
		return fmt.Errorf("card issuer action codes must be 3 bytes, DKI one byte: %w", ErrInvalidImage)
	}
	if p.LastOnlineATC < 0 || p.LastOnlineATC > 0xFFFF || len(p.Log) > ca.logMax {
		return fmt.Errorf("last online ATC or transaction log out of range: %w", ErrInvalidImage)
	}
	for _, r := range p.Log {
		if len(r) != ca.logFormat.Len() {
			return fmt.Errorf("log record of %d bytes, the log format wants %d: %w", len(r), ca.logFormat.Len(), ErrInvalidImage)
		}
	}
	pa := &payApp{state: p.clone(), lcol: -1, ucol: -1}
	for _, r := range a.Records {
		for _, f := range r.Fields {
			var err error
			switch f.Tag {
			case "8C":
				pa.cdol1, err = cardio.ParseDOL(f.Value)
			case "8D":
				pa.cdol2, err = cardio.ParseDOL(f.Value)
			case "9F14":
				if len(f.Value) == 1 {
					pa.lcol = int(f.Value[0])
				}
			case "9F23":
				if len(f.Value) == 1 {
					pa.ucol = int(f.Value[0])
				}
			}
			if err != nil {
				return fmt.Errorf("%s: %w", f.Tag, ErrInvalidImage)
			}
		}
	}
	// The card must find every value its cryptogram covers in both CDOLs,
	// and the authorisation response code in CDOL2.
	for _, d := range []struct {
		name string
		dol  cardio.DOL
		more []cardio.DOLEntry
	}{{"CDOL1 (8C)", pa.cdol1, nil}, {"CDOL2 (8D)", pa.cdol2, []cardio.DOLEntry{{Tag: "8A", Length: 2}}}} {
		want := d.more
		for _, e := range emv.CryptogramInputTags {
			want = append(want, cardio.DOLEntry{Tag: e.Tag, Length: e.Length})
		}
		for _, w := range want {
			found := false
			for _, e := range d.dol {
				found = found || e == w
			}
			if !found {
				return fmt.Errorf("%s lacks %s of %d bytes: %w", d.name, w.Tag, w.Length, ErrInvalidImage)
			}
		}
		if d.dol.Len() > 255 {
			return fmt.Errorf("%s asks for more than 255 bytes: %w", d.name, ErrInvalidImage)
		}
	}
	ca.pay = pa
	return nil
}

// cvr returns the card verification results of the transaction so far,
// without the cryptogram type bits.
func (c *Card) cvr() [3]byte {
	p := c.cur.pay
	var v [3]byte
	if c.txn.pinTried {
		v[0] |= cvr1PINPerformed
	}
	if c.txn.pinFailed {
		v[0] |= cvr1PINFailed
	}
	if c.txn.extAuth && !c.txn.extAuthOK {
		v[0] |= cvr1IssuerAuthFailed
	}
	if c.txn.unableOnline {
		v[0] |= cvr1UnableOnline
	}
	if p.state.OnlineIncomplete {
		v[1] |= cvr2OnlineIncomplete
	}
	if c.pin != "" && c.tries == 0 {
		v[1] |= cvr2PINLimit
	}
	if p.lcol >= 0 && c.atc-p.state.LastOnlineATC > p.lcol {
		v[1] |= cvr2Velocity
	}
	if p.state.LastOnlineATC == 0 {
		v[1] |= cvr2NewCard
	}
	if p.state.IssuerAuthFailed {
		v[1] |= cvr2LastIssuerAuth
	}
	if c.txn.ddaDone {
		v[2] |= cvr3DDAPerformed
	}
	return v
}

func matches(cvr [3]byte, code []byte) bool {
	for i := range cvr {
		if cvr[i]&code[i] != 0 {
			return true
		}
	}
	return false
}

// doGenerateAC answers the first and the second GENERATE AC.
func (c *Card) doGenerateAC(cmd cardio.Command) []byte {
	want := emv.CryptogramType(cmd.P1 & 0xC0)
	if cmd.P1&0x3F != 0 || want == 0xC0 || cmd.P2 != 0 {
		return sw(swIncorrectP1P2) // CDA (b5) is not supported, the rest is RFU
	}
	if c.sel != selApp {
		return sw(swConditions)
	}
	if c.cur.pay == nil {
		return sw(swINSNotSupported)
	}
	if !c.gpoDone || c.txn.second || c.txn.first && c.txn.firstType != emv.ARQC {
		return sw(swConditions)
	}
	if c.txn.first {
		return c.secondGenerateAC(cmd, want)
	}
	return c.firstGenerateAC(cmd, want)
}

func (c *Card) firstGenerateAC(cmd cardio.Command, want emv.CryptogramType) []byte {
	p := c.cur.pay
	if len(cmd.Data) != p.cdol1.Len() {
		return sw(swWrongLength)
	}
	values, err := p.cdol1.Split(cmd.Data)
	if err != nil {
		return sw(swWrongLength)
	}
	cvr := c.cvr()
	got := emv.TC
	switch {
	case want == emv.AAC, matches(cvr, p.state.CIACDecline):
		got = emv.AAC
	case want == emv.ARQC, matches(cvr, p.state.CIACOnline):
		got = emv.ARQC
	}
	cvr[0] |= cvr1SecondNone
	switch got {
	case emv.TC:
		cvr[0] |= cvr1FirstTC
	case emv.ARQC:
		cvr[0] |= cvr1FirstARQC
	}
	sk, err := emv.SessionKeyPBOC(p.state.AC, uint16(c.atc))
	if err != nil {
		return sw(0x6F00)
	}
	out, ac := c.cryptogram(sk, got, values, cvr)
	if out == nil {
		return sw(0x6F00)
	}
	c.txn.first, c.txn.firstType, c.txn.sk, c.txn.values = true, got, sk, values
	switch got {
	case emv.ARQC:
		c.txn.arqc = ac
		p.state.OnlineIncomplete = true
		c.changes++
	case emv.TC:
		c.logTransaction(values)
	}
	return c.respond(cmd, out)
}

func (c *Card) secondGenerateAC(cmd cardio.Command, want emv.CryptogramType) []byte {
	p := c.cur.pay
	if want == emv.ARQC {
		return sw(swIncorrectP1P2)
	}
	if len(cmd.Data) != p.cdol2.Len() {
		return sw(swWrongLength)
	}
	values, err := p.cdol2.Split(cmd.Data)
	if err != nil {
		return sw(swWrongLength)
	}
	arc := values["8A"]
	got := emv.TC
	if emv.ARCUnableOnline(arc) {
		c.txn.unableOnline = true
		cvr := c.cvr()
		over := p.ucol >= 0 && c.atc-p.state.LastOnlineATC > p.ucol
		if want == emv.AAC || over || matches(cvr, p.state.CIACDefault) {
			got = emv.AAC
		}
	} else {
		if want == emv.AAC || !emv.ARCApproves(arc) || p.state.IssuerAuthRequired && !c.txn.extAuthOK {
			got = emv.AAC
		}
		switch {
		case c.txn.extAuthOK:
			p.state.LastOnlineATC, p.state.IssuerAuthFailed = c.atc, false
		case c.txn.extAuth || p.state.IssuerAuthRequired:
			p.state.IssuerAuthFailed = true
		}
	}
	p.state.OnlineIncomplete = false
	c.changes++
	cvr := c.cvr()
	if !emv.ARCUnableOnline(arc) && !c.txn.extAuth {
		cvr[1] |= cvr2IssuerAuthNotDone
	}
	cvr[0] |= cvr1FirstARQC
	if got == emv.TC {
		cvr[0] |= cvr1SecondTC
	}
	out, _ := c.cryptogram(c.txn.sk, got, values, cvr)
	if out == nil {
		return sw(0x6F00)
	}
	c.txn.second = true
	if got == emv.TC {
		merged := make(map[string][]byte, len(c.txn.values)+len(values))
		for k, v := range c.txn.values {
			merged[k] = v
		}
		for k, v := range values {
			merged[k] = v
		}
		c.logTransaction(merged)
	}
	return c.respond(cmd, out)
}

// cryptogram computes the application cryptogram of type t and encodes
// the GENERATE AC response; nil on an internal error.
func (c *Card) cryptogram(sk []byte, t emv.CryptogramType, values map[string][]byte, cvr [3]byte) ([]byte, []byte) {
	iad := emv.IssuerApplicationData{DKI: byte(c.cur.pay.state.DKI), CVN: emv.CVNPBOC, CVR: cvr, Algorithm: 0x01}
	in, err := emv.CryptogramInput(values, c.cur.aip, uint16(c.atc), iad)
	if err != nil {
		return nil, nil
	}
	ac, err := emv.CryptogramMAC(sk, in)
	if err != nil {
		return nil, nil
	}
	out, err := emv.ACResponse{CID: byte(t), ATC: uint16(c.atc), Cryptogram: ac, IAD: iad.Encode()}.Encode(c.cur.gpoFormat)
	if err != nil {
		return nil, nil
	}
	return out, ac
}

// logTransaction writes a log record (newest first, the oldest dropped
// when the log is full).
func (c *Card) logTransaction(values map[string][]byte) {
	a, p := c.cur, c.cur.pay
	if a.logMax == 0 {
		return
	}
	v := make(map[string][]byte, len(values)+1)
	for k, x := range values {
		v[k] = x
	}
	v["9F36"] = []byte{byte(c.atc >> 8), byte(c.atc)}
	rec := a.logFormat.Build(v)
	p.state.Log = append([]cardio.Hex{rec}, p.state.Log...)
	if len(p.state.Log) > a.logMax {
		p.state.Log = p.state.Log[:a.logMax]
	}
	c.changes++
}

// doExternalAuth checks the issuer's ARPC (method 1) after an ARQC.
func (c *Card) doExternalAuth(cmd cardio.Command) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return sw(swIncorrectP1P2)
	}
	if c.sel != selApp {
		return sw(swConditions)
	}
	if c.cur.pay == nil {
		return sw(swINSNotSupported)
	}
	if !c.txn.first || c.txn.firstType != emv.ARQC || c.txn.second || c.txn.extAuth {
		return sw(swConditions)
	}
	if len(cmd.Data) != 10 {
		return sw(swWrongLength)
	}
	c.txn.extAuth = true
	want, err := emv.ARPCMethod1(c.txn.sk, c.txn.arqc, cmd.Data[8:10])
	if err != nil || subtle.ConstantTimeCompare(want, cmd.Data[:8]) != 1 {
		return sw(0x6300)
	}
	c.txn.extAuthOK = true
	return sw(swOK)
}

// readLog answers READ RECORD of the transaction log file.
func (c *Card) readLog(cmd cardio.Command) []byte {
	var log []cardio.Hex
	if c.cur.pay != nil {
		log = c.cur.pay.state.Log
	}
	if int(cmd.P1) > len(log) {
		return sw(swRecordNotFound)
	}
	return c.respond(cmd, log[cmd.P1-1])
}
