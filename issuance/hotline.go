package issuance

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// HotlineAnswer is what a hotline agent learns of a caller's application:
// its progress (masked name, status, steps) and its cards' states with
// their last four digits only. It never holds the ID number or a PAN.
type HotlineAnswer struct {
	Progress Progress
	BankCode string
	Channel  Channel
	Cards    []HotlineCard
}

// HotlineCard is a card as the hotline sees it.
type HotlineCard struct {
	LastFour      string
	Expiry        string // YYMM
	State         BankCardState
	PendingChange CardChange
	ReplaceSeq    int
}

// HotlineLookup finds a caller's application by application number and ID
// number together (either wrong: ErrNotFound, the same answer) and records
// an audit event for every look-up, found or not: who (the hotline token),
// when, which application number was asked, and the result. Role:
// hotline.
func (s *Service) HotlineLookup(ctx context.Context, a Actor, applicationNumber, idNumber string) (HotlineAnswer, error) {
	if err := RequireRole(a, RoleHotline); err != nil {
		return HotlineAnswer{}, err
	}
	number := strings.ToUpper(strings.TrimSpace(applicationNumber))
	if len(number) > 40 {
		number = number[:40]
	}
	var out HotlineAnswer
	p, err := s.Progress(ctx, number, idNumber)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return HotlineAnswer{}, err
	}
	path := ""
	if found {
		app, err := s.store.GetApplicationByNumber(ctx, number)
		if err != nil {
			return HotlineAnswer{}, fmt.Errorf("hotline lookup: %w", err)
		}
		path = app.OrgPath
		cards, err := s.store.CardsOfApplication(ctx, app.ID)
		if err != nil {
			return HotlineAnswer{}, fmt.Errorf("hotline lookup: %w", err)
		}
		out = HotlineAnswer{Progress: p, BankCode: app.BankCode, Channel: app.Channel}
		for _, c := range cards {
			out.Cards = append(out.Cards, HotlineCard{LastFour: c.LastFour, Expiry: c.Expiry, State: c.State,
				PendingChange: c.PendingChange, ReplaceSeq: c.ReplaceSeq})
		}
	}
	detail := "not found (unknown number or the ID number does not match)"
	if found {
		detail = "found: " + string(p.Status)
	}
	if err := s.audit(ctx, a, AuditHotlineLookup, "application", number, path, detail); err != nil {
		return HotlineAnswer{}, err
	}
	if !found {
		return HotlineAnswer{}, fmt.Errorf("hotline lookup: %w", ErrNotFound)
	}
	return out, nil
}
