package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/personalization"
	"github.com/volcard/volcard/personalization/dataprep"
)

// envCardKeys names the directory of the software key store (issuer key,
// CA keys, issuer master keys, KMC; testdata/keys layout). Production
// replaces the software key store with an HSM (docs/operations.md).
const envCardKeys = "VOLCARD_CARD_KEYS_DIR"

// envICCKeyPool is the number of ICC key pairs kept generated ahead of
// need (dataprep.KeyPool); 0 turns the pool off.
const envICCKeyPool = "VOLCARD_ICC_KEY_POOL"

// iccKeyPoolSize reads envICCKeyPool: dataprep.DefaultKeyPoolSize when
// unset, 0 to 1024.
func iccKeyPoolSize(getenv func(string) string) (int, error) {
	v := strings.TrimSpace(getenv(envICCKeyPool))
	if v == "" {
		return dataprep.DefaultKeyPoolSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1024 {
		return 0, withExit(exitUsage, fmt.Errorf("%s=%q: want an integer from 0 (no pool) to 1024", envICCKeyPool, v))
	}
	return n, nil
}

// defaultCardKeys is used when envCardKeys is unset and the directory
// exists (running from the repository: `make run`).
const defaultCardKeys = "testdata/keys"

// simMasterKeyAC is the issuer master key for application cryptograms of
// the software key store (envCardKeys, else defaultCardKeys when present),
// for the embedded bank simulator's chip authorizations; nil when there is
// no key store (the simulator then declines every 0100).
func simMasterKeyAC(getenv func(string) string) ([]byte, error) {
	dir := getenv(envCardKeys)
	if dir == "" {
		if _, err := os.Stat(defaultCardKeys); err != nil {
			return nil, nil
		}
		dir = defaultCardKeys
	}
	ms, err := dataprep.LoadMasterKeys(filepath.Join(dir, "issuer-master-keys.json"))
	if err != nil {
		return nil, fmt.Errorf("bank simulator: %w", err)
	}
	return ms.AC, nil
}

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
// is available; without one it logs why and leaves them out. The ICC key
// pool it starts generates until ctx ends.
func enablePersonalization(ctx context.Context, svc *issuance.Service, srv *api.Server, log *slog.Logger) error {
	poolSize, err := iccKeyPoolSize(os.Getenv) // a bad setting stops serve even with personalization off
	if err != nil {
		return err
	}
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
	opts := []dataprep.Option{dataprep.WithClock(svc.Now)}
	if poolSize > 0 {
		pool, err := dataprep.NewKeyPool(ctx, dataprep.KeyPoolConfig{Size: poolSize})
		if err != nil {
			return err
		}
		opts = append(opts, dataprep.WithKeyPool(pool))
	}
	prep, err := dataprep.New(ks, opts...)
	if err != nil {
		return err
	}
	p, err := personalization.New(personalization.Config{Issuance: svc, Keys: ks, CAKeys: ca, Preparer: prep})
	if err != nil {
		return err
	}
	if err := srv.EnablePersonalization(p); err != nil {
		return err
	}
	log.Warn("personalization enabled with the SOFTWARE key store (test keys; production needs an HSM)",
		slog.String("dir", dir), slog.Int("products", len(bins)), slog.Int("icc_key_pool", poolSize))
	return nil
}
