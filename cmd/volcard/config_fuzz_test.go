package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// fuzzEnv lists the variables FuzzConfigFromEnv sets, in the order of the
// fuzz arguments' fields (a NUL-separated list of values).
var fuzzEnv = []string{envListen, envDataDir, envDatabaseURL, envDataKey, envLogLevel, envLogFormat, envDBMaxConns,
	envTrustedProxies, envProgressRate, envBankAddr, envBankTerminalID, envBankInstitutionID, envBankMACKey,
	envBankWorkers, envBankPoll, envBankTimeout, envCheckinRounding, envStarThresholds, envMemberHours, envChallengeTTL}

// FuzzConfigFromEnv: the VOLCARD_* configuration values (configFromEnv,
// bankConfigFromEnv, checkinConfig) of any text give a config or an error,
// never a panic, and an error never repeats the MAC key or the data key.
// The input is the values joined by NUL, one per fuzzEnv variable.
func FuzzConfigFromEnv(f *testing.F) {
	f.Add("")
	f.Add(strings.Join([]string{":9090", "/tmp/v", "", "", "debug", "text", "16", "10.0.0.0/8, 127.0.0.1/32", "30",
		"127.0.0.1:9001,127.0.0.1:9002", "VOLCARD2", "GDVOLCARD000002", strings.Repeat("ab", 32), "4", "250ms", "5s",
		"nearest:15m", "100,300,600,1000,1500", "20", "90s"}, "\x00"))
	f.Add(strings.Join([]string{"", "", "", "", "loud", "xml", "0", "10.0.0.0/33", "-1", "", "SHORT", "x", "zz" + strings.Repeat("5", 62),
		"65", "-1s", "forever", "up:banana", "1,,2", "NaN", "0"}, "\x00"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, in string) {
		vals := strings.Split(in, "\x00")
		env := map[string]string{}
		for i, name := range fuzzEnv {
			if i < len(vals) {
				env[name] = vals[i]
			}
		}
		getenv := func(k string) string { return env[k] }
		var secrets []string
		for _, k := range []string{envBankMACKey, envDataKey} {
			s, elsewhere := strings.TrimSpace(env[k]), false
			for name, v := range env {
				elsewhere = elsewhere || (name != k && s != "" && strings.Contains(v, s))
			}
			if !elsewhere {
				secrets = append(secrets, s)
			}
		}
		check := func(err error) {
			if err == nil {
				return
			}
			for _, s := range secrets {
				if len(s) >= 8 && strings.Contains(err.Error(), s) {
					t.Fatalf("error repeats a key: %v", err)
				}
			}
		}
		c, err := configFromEnv(getenv)
		check(err)
		if err == nil && (c.DBMaxConns < 1 || c.ProgressRate <= 0 || len(c.Bank.TerminalID) != 8 || len(c.Bank.InstitutionID) != 15) {
			t.Fatalf("accepted a bad config: %+v", c)
		}
		env[envCAKeys] = "../../testdata/keys/ca-public.json" // the test CA, so that the other variables are read
		_, err = checkinConfig(getenv, log)
		check(err)
	})
}
