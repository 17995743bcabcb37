package emv

import (
	"context"
	"errors"
	"fmt"

	"github.com/volcard/volcard/cardio"
)

// Authenticate performs offline data authentication for facts obtained by
// Read on the same card (the application must still be selected): DDA when
// the AIP announces it and the card carries an ICC certificate, SDA
// otherwise when announced. DDA sends one INTERNAL AUTHENTICATE with the
// DDOL (9F49, or DefaultDDOL) filled with a fresh unpredictable number.
//
// On failure it returns an *ODAError (reason ErrCAKeyUnknown,
// ErrIssuerCertificate, ErrICCCertificate, ErrSignature, ErrODAData or
// ErrODANotSupported); card I/O failures during INTERNAL AUTHENTICATE are
// returned as the ODAError's Cause, so errors.Is(err, cardio.ErrCardRemoved)
// holds.
func Authenticate(ctx context.Context, card cardio.Card, facts *CardFacts, opts Options) (ODAResult, error) {
	if facts == nil || facts.raw == nil {
		return ODAResult{Method: ODANone}, &ODAError{Method: ODANone, Reason: ErrODAData}
	}
	method := ODANone
	_, hasICCCert := facts.raw.tags["9F46"]
	_, hasSSAD := facts.raw.tags["93"]
	switch {
	case facts.AIP.DDA() && hasICCCert:
		method = ODADDA
	case facts.AIP.SDA() && hasSSAD:
		method = ODASDA
	}
	res := ODAResult{Method: method}
	var err error
	switch method {
	case ODADDA:
		err = dda(ctx, card, facts, opts)
	case ODASDA:
		err = sda(facts, opts)
	default:
		err = &ODAError{Method: ODANone, Reason: ErrODANotSupported}
	}
	if err != nil {
		var oe *ODAError
		if !errors.As(err, &oe) {
			oe = &ODAError{Reason: ErrODAData, Cause: err}
			err = oe
		}
		oe.Method = method
		res.Failure = oe.Error()
		return res, err
	}
	res.Verified = true
	return res, nil
}

// issuerKey recovers the issuer public key through the CA key.
func issuerKey(f *CardFacts, opts Options) (PublicKey, error) {
	idx, ok := f.raw.tags["8F"]
	if !ok || len(idx) != 1 || len(f.AID) < 5 {
		return PublicKey{}, &ODAError{Reason: ErrODAData, Cause: fmt.Errorf("CA public key index (8F): %w", ErrMissingData)}
	}
	ca, ok := opts.CAKeys.Find(f.AID[:5], idx[0])
	if !ok {
		return PublicKey{}, &ODAError{Reason: ErrCAKeyUnknown}
	}
	if !ca.Expiry.IsZero() && opts.now().After(ca.Expiry) {
		return PublicKey{}, &ODAError{Reason: ErrCAKeyUnknown, Cause: ErrCertificateExpired}
	}
	cert, ok := f.raw.tags["90"]
	exp, ok2 := f.raw.tags["9F32"]
	if !ok || !ok2 {
		return PublicKey{}, &ODAError{Reason: ErrODAData, Cause: fmt.Errorf("issuer certificate (90, 9F32): %w", ErrMissingData)}
	}
	ic, err := RecoverIssuerKey(ca, SignedCertificate{Certificate: cert, Remainder: f.raw.tags["92"], Exponent: exp}, f.PAN.Digits(), opts.now())
	if err != nil {
		return PublicKey{}, err
	}
	return ic.Key, nil
}

func staticData(f *CardFacts) ([]byte, error) {
	sd, err := StaticData(f.AFL, f.raw.records, f.raw.tags["9F4A"], f.raw.aip)
	if err != nil {
		return nil, &ODAError{Reason: ErrODAData, Cause: err}
	}
	return sd, nil
}

func sda(f *CardFacts, opts Options) error {
	ik, err := issuerKey(f, opts)
	if err != nil {
		return err
	}
	sd, err := staticData(f)
	if err != nil {
		return err
	}
	_, err = VerifyStaticData(ik, f.raw.tags["93"], sd)
	return err
}

func dda(ctx context.Context, card cardio.Card, f *CardFacts, opts Options) error {
	ik, err := issuerKey(f, opts)
	if err != nil {
		return err
	}
	sd, err := staticData(f)
	if err != nil {
		return err
	}
	exp, ok := f.raw.tags["9F47"]
	if !ok {
		return &ODAError{Reason: ErrODAData, Cause: fmt.Errorf("ICC exponent (9F47): %w", ErrMissingData)}
	}
	icc, err := RecoverICCKey(ik, SignedCertificate{Certificate: f.raw.tags["9F46"], Remainder: f.raw.tags["9F48"], Exponent: exp}, sd, f.PAN.Digits(), opts.now())
	if err != nil {
		return err
	}
	ddol := DefaultDDOL
	if raw, ok := f.raw.tags["9F49"]; ok {
		if ddol, err = cardio.ParseDOL(raw); err != nil {
			return &ODAError{Reason: ErrODAData, Cause: err}
		}
	}
	hasUN := false
	for _, e := range ddol {
		hasUN = hasUN || e.Tag == "9F37"
	}
	if !hasUN {
		return &ODAError{Reason: ErrODAData, Cause: fmt.Errorf("DDOL without 9F37: %w", ErrMalformedData)}
	}
	term, err := opts.TerminalData(opts.now())
	if err != nil {
		return &ODAError{Reason: ErrODAData, Cause: err}
	}
	data := ddol.Build(term)
	sdad, err := InternalAuthenticate(ctx, card, data)
	if err != nil {
		if isStatus(err) {
			return &ODAError{Reason: ErrSignature, Cause: err}
		}
		return &ODAError{Reason: ErrODAData, Cause: err}
	}
	_, err = VerifyDynamicData(icc.Key, sdad, data)
	return err
}

// InternalAuthenticate sends INTERNAL AUTHENTICATE (00 88 00 00) with DDOL
// data and returns the signed dynamic application data, from a format 1
// (80) or format 2 (77 with 9F4B) response.
func InternalAuthenticate(ctx context.Context, card cardio.Card, ddolData []byte) ([]byte, error) {
	resp, err := cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSInternalAuth, Data: ddolData, Le: 256})
	if err != nil {
		return nil, fmt.Errorf("emv: internal authenticate: %w", err)
	}
	tlvs, err := cardio.DecodeTLV(resp.Data)
	if err != nil || len(tlvs) == 0 {
		return nil, fmt.Errorf("emv: internal authenticate response: %w", ErrMalformedData)
	}
	switch tlvs[0].Tag {
	case "80":
		return tlvs[0].Value, nil
	case "77":
		if v, ok := cardio.FindValue(tlvs[0].TLVs, "9F4B"); ok {
			return v, nil
		}
	}
	return nil, fmt.Errorf("emv: internal authenticate response without SDAD: %w", ErrMalformedData)
}
