package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/dataprep"
	"github.com/volcard/volcard/issuance/personalization"
)

// envCardKeys names the directory of the software key store (issuer key,
// CA keys, issuer master keys, KMC; testdata/keys layout). Production
// replaces the software key store with an HSM (docs/operations.md).
const envCardKeys = "VOLCARD_CARD_KEYS_DIR"

// defaultCardKeys is used when envCardKeys is unset and the directory
// exists (running from the repository: `make run`).
const defaultCardKeys = "testdata/keys"

// productBINs maps every catalog product code to its BIN: the key store
// certifies the issuer key for each, and the embedded bank simulator issues
// each product's PANs from it (keyed by issuance.BankProductCode).
func productBINs(ctx context.Context, svc *issuance.Service) (map[string]string, error) {
	ps, err := svc.ListProducts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	out := make(map[string]string, len(ps))
	for _, p := range ps {
		out[p.Code] = p.BIN
	}
	return out, nil
}

// bankProductBINs is productBINs keyed by the bank's product code (field
// 48), for banksim.Config.ProductBINs.
func bankProductBINs(ctx context.Context, svc *issuance.Service) (map[string]string, error) {
	m, err := productBINs(ctx, svc)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for code, bin := range m {
		out[issuance.BankProductCode(code)] = bin
	}
	return out, nil
}

// enablePersonalization adds the personalization routes when a key store
// is available; without one it logs why and leaves them out.
func enablePersonalization(ctx context.Context, svc *issuance.Service, srv *api.Server, log *slog.Logger) error {
	dir := os.Getenv(envCardKeys)
	if dir == "" {
		if _, err := os.Stat(filepath.Join(defaultCardKeys, "kmc.json")); err != nil {
			log.Warn("personalization disabled: no card key store (set " + envCardKeys + ")")
			return nil
		}
		dir = defaultCardKeys
	}
	bins, err := productBINs(ctx, svc)
	if err != nil {
		return err
	}
	ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: dir, ProductBINs: bins})
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("card key store %s: %w", dir, err))
	}
	ca, err := emv.LoadCAKeys(filepath.Join(dir, "ca-public.json"))
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("card key store %s: %w", dir, err))
	}
	p, err := personalization.New(personalization.Config{Issuance: svc, Keys: ks, CAKeys: ca})
	if err != nil {
		return err
	}
	if err := srv.EnablePersonalization(p); err != nil {
		return err
	}
	log.Warn("personalization enabled with the SOFTWARE key store (test keys; production needs an HSM)",
		slog.String("dir", dir), slog.Int("products", len(bins)))
	return nil
}
