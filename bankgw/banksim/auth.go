package banksim

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/moov-io/iso8583"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/pii"
)

// Authorization is what the simulator recorded of one 0100.
type Authorization struct {
	PAN          string
	Amount       int64
	ATC          uint16
	ResponseCode string
	// CryptogramOK says the ARQC verified.
	CryptogramOK bool
}

// String masks the PAN.
func (a Authorization) String() string {
	return fmt.Sprintf("%s amount %d ATC %d: %s (ARQC ok %t)", pii.MaskPAN(a.PAN), a.Amount, a.ATC, a.ResponseCode, a.CryptogramOK)
}

// Authorizations returns the 0100s answered so far, in order.
func (s *Sim) Authorizations() []Authorization {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Authorization(nil), s.auths...)
}

// authorize answers a chip authorization (0100): the card must be one the
// simulator issued and may be used (issued or active); the ARQC must verify
// under the card's session key, derived from MasterKeyAC by PAN and PSN
// (EMV option A) and the ATC (PBOC session key, CVN 01); neither the TVR
// (cardholder verification not successful) nor the card's CVR (offline
// PIN failed) may report a failed verification; the amount must be within
// AuthLimit. The 0110 carries 39 and, when the ARQC verified, 91 =
// ARPC (method 1 over the ARC, the two characters of 39) ‖ ARC.
func (s *Sim) authorize(p *peer, msg *iso8583.Message) any {
	var m bankgw.AuthorizationMessage
	if err := bankgw.Decode(msg, &m); err != nil {
		return nil
	}
	resp := &bankgw.AuthorizationMessage{Header: m.Header, RRN: m.RRN, PAN: m.PAN, ProcessingCode: m.ProcessingCode, Amount: m.Amount, Currency: m.Currency}
	resp.MTI = bankgw.MTIAuthResponse
	finish := func(code string, sk, arqc []byte) any {
		resp.ResponseCode = code
		if code == bankgw.CodeApproved {
			resp.AuthCode = fmt.Sprintf("%06d", len(s.auths)+1)
		}
		if sk != nil {
			arpc, err := emv.ARPCMethod1(sk, arqc, []byte(code))
			if err == nil {
				resp.ICCData, _ = bankgw.ICCData{{Tag: bankgw.ICCTagIssuerAuthData, Value: append(arpc, code...)}}.Encode()
			}
		}
		return resp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Authorization{PAN: m.PAN}
	defer func() { s.auths = append(s.auths, rec) }()
	if !p.signedOn {
		rec.ResponseCode = bankgw.CodeIssuerUnavailable
		return finish(rec.ResponseCode, nil, nil)
	}
	icc, err := bankgw.ParseICCData(m.ICCData)
	amount, aerr := strconv.ParseInt(m.Amount, 10, 64)
	rec.Amount = amount
	if err != nil || aerr != nil || m.ProcessingCode != bankgw.ProcessingPurchase || len(bankgw.MissingICCTags(icc)) > 0 || len(m.PSN) != 3 {
		rec.ResponseCode = bankgw.CodeFormatError
		return finish(rec.ResponseCode, nil, nil)
	}
	v := icc.Values()
	atc := v[bankgw.ICCTagATC]
	card, known := s.cards[m.PAN]
	if len(atc) != 2 || len(s.cfg.MasterKeyAC) == 0 || !known {
		rec.ResponseCode = bankgw.CodeDoNotHonour
		if !known {
			rec.ResponseCode = bankgw.CodeInvalidCard
		}
		return finish(rec.ResponseCode, nil, nil)
	}
	rec.ATC = uint16(atc[0])<<8 | uint16(atc[1])
	sk, cvr, ok := s.checkARQC(m.PAN, m.PSN, rec.ATC, v)
	rec.CryptogramOK = ok
	switch {
	case !ok:
		rec.ResponseCode = bankgw.CodeDoNotHonour
		return finish(rec.ResponseCode, nil, nil)
	case card.State != bankgw.CardIssued && card.State != bankgw.CardActive:
		rec.ResponseCode = bankgw.CodeDoNotHonour
	case len(v[bankgw.ICCTagTVR]) == 5 && v[bankgw.ICCTagTVR][2]&0x80 != 0, cvr[0]&0x02 != 0:
		rec.ResponseCode = bankgw.CodeDoNotHonour // cardholder verification failed (terminal) or offline PIN failed (card)
	case amount > s.cfg.AuthLimit:
		rec.ResponseCode = bankgw.CodeInsufficientFunds
	default:
		rec.ResponseCode = bankgw.CodeApproved
	}
	return finish(rec.ResponseCode, sk, v[bankgw.ICCTagCryptogram])
}

// checkARQC recomputes the cryptogram; it returns the session key and the
// CVR when the ARQC verifies.
func (s *Sim) checkARQC(pan, psn string, atc uint16, v map[string][]byte) ([]byte, [3]byte, bool) {
	var none [3]byte
	n, err := strconv.Atoi(psn)
	if err != nil || n > 99 {
		return nil, none, false
	}
	mk, err := emv.DeriveICCMasterKey(s.cfg.MasterKeyAC, pan, byte(n/10<<4|n%10))
	if err != nil {
		return nil, none, false
	}
	iad, err := emv.ParseIssuerApplicationData(v[bankgw.ICCTagIAD])
	cid := v[bankgw.ICCTagCID]
	if err != nil || iad.CVN != emv.CVNPBOC || len(cid) != 1 || emv.CryptogramType(cid[0]&0xC0) != emv.ARQC {
		return nil, none, false
	}
	sk, err := emv.SessionKeyPBOC(mk, atc)
	if err != nil {
		return nil, none, false
	}
	in, err := emv.CryptogramInput(v, v[bankgw.ICCTagAIP], atc, iad)
	if err != nil {
		return nil, none, false
	}
	mac, err := emv.CryptogramMAC(sk, in)
	if err != nil || !bytes.Equal(mac, v[bankgw.ICCTagCryptogram]) {
		s.log.Info("banksim: ARQC does not verify", slog.String("pan", pii.MaskPAN(pan)))
		return nil, none, false
	}
	return sk, iad.CVR, true
}
