package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/settlement"
	"github.com/volcard/volcard/issuance"
)

// settlementFlags are bank-sim's settlement-file flags.
type settlementFlags struct {
	dir, bank, key string
	every          time.Duration
}

// start writes sim's settlement file now and every f.every until the
// returned stop, which writes it a last time. Nothing when f.dir is empty.
func (f settlementFlags) start(sim *banksim.Sim, log *slog.Logger) (stop func(), err error) {
	if f.dir == "" {
		return func() {}, nil
	}
	bank := strings.ToUpper(f.bank)
	getenv := os.Getenv
	if f.key != "" {
		getenv = func(name string) string {
			if name == reconKeyEnv(bank) {
				return f.key
			}
			return ""
		}
	}
	k, err := reconKeys(getenv, bank)
	if err != nil {
		return nil, withExit(exitUsage, fmt.Errorf("--settlement-key: %w", err))
	}
	if f.every <= 0 {
		return nil, withExit(exitUsage, fmt.Errorf("--settlement-every must be positive"))
	}
	write := func() {
		path, err := writeSettlement(sim, f.dir, bank, time.Now(), k)
		if err != nil {
			log.Error("bank-sim: settlement file", slog.Any("err", err))
			return
		}
		log.Info("bank-sim: settlement file written", slog.String("path", path))
	}
	write()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(f.every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				write()
			}
		}
	})
	return func() { close(done); wg.Wait(); write() }, nil
}

// writeSettlement writes sim's ledger as bank's settlement file of the
// China-time date of now under dir, atomically (a temporary file renamed),
// and returns its path.
func writeSettlement(sim *banksim.Sim, dir, bank string, now time.Time, k settlement.Keys) (string, error) {
	y, m, d := now.In(issuance.ChinaTime).Date()
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	path := reconPath(dir, bank, date)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := sim.WriteSettlement(&buf, bank, date, k); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}
