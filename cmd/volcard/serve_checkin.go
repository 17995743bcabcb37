package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/issuance"
)

// Check-in configuration (environment of "volcard serve").
const (
	// envCAKeys is the JSON list of trusted CA public keys that card
	// evidence is verified against (shared with "volcard read").
	envCAKeys = "VOLCARD_CA_KEYS"
	// envCheckinRounding is the rounding of credited time: "down:15m",
	// "nearest:30m", "up:1m" (mode optional, default down; default 1m).
	envCheckinRounding = "VOLCARD_CHECKIN_ROUNDING"
	// envStarThresholds are the lifetime hours of 1..5 stars, comma
	// separated (default 100,300,600,1000,1500).
	envStarThresholds = "VOLCARD_STAR_THRESHOLDS"
	// envMemberHours is the yearly hours expected of league and party
	// members (default 20).
	envMemberHours = "VOLCARD_MEMBER_HOURS"
	// envChallengeTTL is how long a terminal challenge is valid (default 60s).
	envChallengeTTL = "VOLCARD_CHALLENGE_TTL"
)

// defaultCAKeys is the CA key file used when VOLCARD_CA_KEYS (or read's
// --ca-keys) is not set: the test CA of testdata/keys when the working
// directory has it (a checkout), else none.
func defaultCAKeys() string {
	p := filepath.Join(defaultCardKeys, "ca-public.json")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// checkinConfig reads the check-in configuration from getenv.
func checkinConfig(getenv func(string) string, log *slog.Logger) (checkin.Config, error) {
	var cfg checkin.Config
	path := getenv(envCAKeys)
	if path == "" {
		if path = defaultCAKeys(); path != "" {
			log.Warn("check-in trusts the TEST CA (testdata/keys); set " + envCAKeys + " in production")
		} else {
			log.Warn("check-in has no CA keys: every card will be refused as not genuine (set " + envCAKeys + ")")
		}
	}
	if path != "" {
		keys, err := emv.LoadCAKeys(path)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", envCAKeys, err)
		}
		cfg.Verifier = emv.EvidenceVerifier{CAs: keys}
	}
	if v := strings.TrimSpace(getenv(envCheckinRounding)); v != "" {
		mode, unit, ok := strings.Cut(v, ":")
		if !ok {
			mode, unit = "down", v
		}
		d, err := time.ParseDuration(unit)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", envCheckinRounding, err)
		}
		cfg.Rounding = checkin.Rounding{Unit: d, Mode: checkin.RoundingMode(mode)}
	}
	if v := strings.TrimSpace(getenv(envStarThresholds)); v != "" {
		for _, p := range strings.Split(v, ",") {
			h, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", envStarThresholds, err)
			}
			cfg.StarThresholds = append(cfg.StarThresholds, h)
		}
	}
	if v := strings.TrimSpace(getenv(envMemberHours)); v != "" {
		h, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", envMemberHours, err)
		}
		cfg.MemberExpectation = h
	}
	if v := strings.TrimSpace(getenv(envChallengeTTL)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", envChallengeTTL, err)
		}
		cfg.ChallengeTTL = d
	}
	return cfg, nil
}

// enableCheckin adds the check-in routes (activities, terminal challenges,
// taps, service records, benefits) to srv.
func enableCheckin(svc *issuance.Service, st checkin.Store, srv *api.Server, log *slog.Logger) error {
	cfg, err := checkinConfig(os.Getenv, log)
	if err != nil {
		return withExit(exitUsage, err)
	}
	ck, err := checkin.New(svc, st, cfg)
	if err != nil {
		return withExit(exitUsage, err)
	}
	return srv.EnableCheckin(ck)
}
