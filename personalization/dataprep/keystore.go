package dataprep

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
)

// KeyStore is the key-holding port (an HSM in production): the issuer key
// that certifies ICC keys, the issuer master keys the card's application
// keys derive from, and the KMC the card's secure-channel keys derive from.
type KeyStore interface {
	// IssuerKey returns the issuer key of a bank's card product.
	IssuerKey(ctx context.Context, bank, product string) (IssuerSigner, error)
	// MasterKeys returns the issuer master keys (AC, SMI, SMC) named keyID.
	MasterKeys(ctx context.Context, keyID string) (MasterKeys, error)
	// KMC returns the key master key of a key version and its
	// diversification method.
	KMC(ctx context.Context, keyVersion byte) (KMC, error)
}

// IssuerSigner is an issuer private key held by the key store, with its
// certificate signed by the payment scheme CA.
type IssuerSigner interface {
	// Certificate is the issuer public key certificate (90, 92, 9F32), the
	// CA key index (8F) and the issuer identifier (BIN) it names.
	Certificate() IssuerCertificate
	// SignICCCertificate signs an ICC public key certificate.
	SignICCCertificate(ctx context.Context, t emv.ICCCertTemplate) (emv.SignedCertificate, error)
}

// IssuerCertificate is an issuer public key certificate as the card stores
// it, with the index of the CA key that signed it and the BIN it covers.
type IssuerCertificate struct {
	emv.SignedCertificate
	CAIndex  byte
	IssuerID string
}

// MasterKeys are issuer master keys: application cryptogram (AC), secure
// messaging integrity (SMI) and confidentiality (SMC).
type MasterKeys struct {
	KeyID string
	AC    gp.Key
	SMI   gp.Key
	SMC   gp.Key
}

// KMC is a key master key for SCP02 card keys.
type KMC struct {
	Key             gp.Key
	Version         byte
	Diversification gp.Diversification
}

// SoftKeyStore is a KeyStore in memory, loaded from key files (the TEST keys
// of testdata/keys). It signs with math/big and keeps keys in clear: for
// tests, the simulator and demos only. Production uses an HSM that never
// releases the issuer private key, the master keys or the KMC.
type SoftKeyStore struct {
	signer  *softSigner
	byBIN   map[string]*softSigner // product code → signer certified for its BIN
	masters MasterKeys
	kmc     KMC
}

var _ KeyStore = (*SoftKeyStore)(nil)

// SoftKeyStoreConfig says where the key files are and how to certify the
// issuer key.
type SoftKeyStoreConfig struct {
	// Dir holds ca-private.json, ca-public.json, issuer-private.json,
	// issuer-master-keys.json and kmc.json (testdata/keys layout).
	Dir string
	// IssuerID is the BIN the issuer certificate names (3-8 digits):
	// "621785" when empty, as on the test cards.
	IssuerID string
	// CertExpiry is the issuer certificate's expiry month; 12/2032 when zero.
	CertExpiry time.Time
	// CertSerial is the issuer certificate serial; 123456 when zero.
	CertSerial [3]byte
	// ProductBINs maps a card product code to its BIN: the same test issuer
	// key is certified once more for each distinct BIN, and IssuerKey
	// returns the certificate naming the product's BIN (so a PAN issued from
	// that BIN verifies). Products not listed get the IssuerID certificate.
	ProductBINs map[string]string
}

type kmcFile struct {
	KMC             string `json:"kmc"`
	KeyVersion      int    `json:"keyVersion"`
	Diversification string `json:"diversification"`
}

type mastersFile struct {
	KeyID string `json:"keyID"`
	AC    string `json:"ac"`
	SMI   string `json:"smi"`
	SMC   string `json:"smc"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("dataprep: load keys: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("dataprep: load keys %s: %w", filepath.Base(path), err)
	}
	return nil
}

// LoadMasterKeys reads an issuer master keys file
// (testdata/keys/issuer-master-keys.json: keyID, ac, smi, smc in hex). The
// bank simulator loads the same file to check application cryptograms.
func LoadMasterKeys(path string) (MasterKeys, error) {
	var mf mastersFile
	if err := readJSON(path, &mf); err != nil {
		return MasterKeys{}, err
	}
	ms := MasterKeys{KeyID: mf.KeyID}
	for _, p := range []struct {
		dst *gp.Key
		hex string
	}{{&ms.AC, mf.AC}, {&ms.SMI, mf.SMI}, {&ms.SMC, mf.SMC}} {
		var err error
		if *p.dst, err = gp.ParseKey(p.hex); err != nil {
			return MasterKeys{}, fmt.Errorf("dataprep: issuer master keys: %w", err)
		}
	}
	return ms, nil
}

// LoadKMC reads a KMC file (testdata/keys/kmc.json).
func LoadKMC(path string) (KMC, error) {
	var f kmcFile
	if err := readJSON(path, &f); err != nil {
		return KMC{}, err
	}
	k, err := gp.ParseKey(f.KMC)
	if err != nil {
		return KMC{}, fmt.Errorf("dataprep: load KMC: %w", err)
	}
	if f.KeyVersion < 1 || f.KeyVersion > 0xFF {
		return KMC{}, fmt.Errorf("dataprep: load KMC: key version %d: %w", f.KeyVersion, gp.ErrInvalidKey)
	}
	var d gp.Diversification
	switch strings.ToLower(f.Diversification) {
	case "emv", "":
		d = gp.DiversifyEMV
	case "visa2":
		d = gp.DiversifyVISA2
	case "none":
		d = gp.DiversifyNone
	default:
		return KMC{}, fmt.Errorf("dataprep: load KMC: diversification %q: %w", f.Diversification, gp.ErrUnsupportedSCP)
	}
	return KMC{Key: k, Version: byte(f.KeyVersion), Diversification: d}, nil
}

// LoadSoftKeyStore loads the key files and certifies the issuer key with
// the CA key (as the scheme CA would).
func LoadSoftKeyStore(cfg SoftKeyStoreConfig) (*SoftKeyStore, error) {
	if cfg.IssuerID == "" {
		cfg.IssuerID = "621785"
	}
	if cfg.CertExpiry.IsZero() {
		cfg.CertExpiry = time.Date(2032, time.December, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.CertSerial == [3]byte{} {
		cfg.CertSerial = [3]byte{0x12, 0x34, 0x56}
	}
	ca, err := emv.LoadPrivateKey(filepath.Join(cfg.Dir, "ca-private.json"))
	if err != nil {
		return nil, fmt.Errorf("dataprep: %w", err)
	}
	caList, err := emv.LoadCAKeys(filepath.Join(cfg.Dir, "ca-public.json"))
	if err != nil {
		return nil, fmt.Errorf("dataprep: %w", err)
	}
	index, found := byte(0), false
	for _, k := range caList {
		if string(k.Modulus) == string(ca.Modulus) {
			index, found = k.Index, true
		}
	}
	if !found {
		return nil, fmt.Errorf("dataprep: CA private key not in the CA list: %w", ErrKeyNotFound)
	}
	issuer, err := emv.LoadPrivateKey(filepath.Join(cfg.Dir, "issuer-private.json"))
	if err != nil {
		return nil, fmt.Errorf("dataprep: %w", err)
	}
	cert, err := emv.SignIssuerCertificate(ca, emv.IssuerCertTemplate{IssuerID: cfg.IssuerID, Expiry: cfg.CertExpiry, Serial: cfg.CertSerial, Key: issuer.Public()})
	if err != nil {
		return nil, fmt.Errorf("dataprep: certify issuer key: %w", err)
	}
	ms, err := LoadMasterKeys(filepath.Join(cfg.Dir, "issuer-master-keys.json"))
	if err != nil {
		return nil, err
	}
	kmc, err := LoadKMC(filepath.Join(cfg.Dir, "kmc.json"))
	if err != nil {
		return nil, err
	}
	ic := IssuerCertificate{SignedCertificate: cert, CAIndex: index, IssuerID: cfg.IssuerID}
	ks := &SoftKeyStore{signer: &softSigner{key: issuer, cert: ic}, masters: ms, kmc: kmc}
	certified := map[string]*softSigner{cfg.IssuerID: ks.signer}
	for product, bin := range cfg.ProductBINs {
		if len(bin) < 3 || len(bin) > 8 || strings.Trim(bin, "0123456789") != "" {
			return nil, invalid("product BIN", "must be 3 to 8 digits")
		}
		sg, ok := certified[bin]
		if !ok {
			c, err := emv.SignIssuerCertificate(ca, emv.IssuerCertTemplate{IssuerID: bin, Expiry: cfg.CertExpiry, Serial: cfg.CertSerial, Key: issuer.Public()})
			if err != nil {
				return nil, fmt.Errorf("dataprep: certify issuer key for a product BIN: %w", err)
			}
			sg = &softSigner{key: issuer, cert: IssuerCertificate{SignedCertificate: c, CAIndex: index, IssuerID: bin}}
			certified[bin] = sg
		}
		if ks.byBIN == nil {
			ks.byBIN = map[string]*softSigner{}
		}
		ks.byBIN[product] = sg
	}
	return ks, nil
}

// IssuerKey returns the store's issuer key (one key whatever the bank and
// product, both non-empty) with the certificate naming the product's BIN
// (SoftKeyStoreConfig.ProductBINs), or the default IssuerID certificate.
func (s *SoftKeyStore) IssuerKey(ctx context.Context, bank, product string) (IssuerSigner, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if bank == "" || product == "" {
		return nil, fmt.Errorf("dataprep: issuer key for an empty bank or product: %w", ErrKeyNotFound)
	}
	if sg, ok := s.byBIN[product]; ok {
		return sg, nil
	}
	return s.signer, nil
}

// MasterKeys returns the store's issuer master keys when keyID matches (an
// empty keyID selects them too).
func (s *SoftKeyStore) MasterKeys(ctx context.Context, keyID string) (MasterKeys, error) {
	if err := ctx.Err(); err != nil {
		return MasterKeys{}, err
	}
	if keyID != "" && keyID != s.masters.KeyID {
		return MasterKeys{}, fmt.Errorf("dataprep: master keys %q: %w", keyID, ErrKeyNotFound)
	}
	return s.masters, nil
}

// KMC returns the store's KMC when keyVersion is its version (0 selects it too).
func (s *SoftKeyStore) KMC(ctx context.Context, keyVersion byte) (KMC, error) {
	if err := ctx.Err(); err != nil {
		return KMC{}, err
	}
	if keyVersion != 0 && keyVersion != s.kmc.Version {
		return KMC{}, fmt.Errorf("dataprep: KMC version %02X: %w", keyVersion, ErrKeyNotFound)
	}
	return s.kmc, nil
}

type softSigner struct {
	key  *emv.PrivateKey
	cert IssuerCertificate
}

func (s *softSigner) Certificate() IssuerCertificate { return s.cert }
func (s *softSigner) SignICCCertificate(ctx context.Context, t emv.ICCCertTemplate) (emv.SignedCertificate, error) {
	if err := ctx.Err(); err != nil {
		return emv.SignedCertificate{}, err
	}
	return emv.SignICCCertificate(s.key, t)
}
