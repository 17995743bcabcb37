package personalize

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// LineOperator is an Operator on a line-oriented console: it prints the
// entry ("12/45 李四 …") and reads the operator's answer (Enter to go,
// "s" to skip, "q" to quit). With Interactive false (a PIN file, no
// terminal) it never asks: every entry goes when a card arrives, a failure
// skips the entry, a card pulled out midway is retried with the next card
// put in. Either way it says what the walk waits for when a card must be
// swapped.
type LineOperator struct {
	In  io.Reader
	Out io.Writer
	// Interactive makes it ask before each card and after each failure.
	Interactive bool
	// PINFor returns the PIN of an entry (asked twice without echo, or
	// read from a file); required.
	PINFor func(ctx context.Context, item wire.QueueItem) (string, error)
	// OnDone, when set, is called for each personalized card.
	OnDone func(item wire.QueueItem, res wire.PersonalizationResult, st Stats)

	lines *bufio.Scanner
}

var _ Operator = (*LineOperator)(nil)

func (o *LineOperator) ask(prompt string) (Action, error) {
	if !o.Interactive {
		return Go, nil
	}
	if o.lines == nil {
		o.lines = bufio.NewScanner(o.In)
	}
	fmt.Fprint(o.Out, prompt)
	if !o.lines.Scan() {
		return Quit, nil
	}
	switch strings.ToLower(strings.TrimSpace(o.lines.Text())) {
	case "s", "skip":
		return Skip, nil
	case "q", "quit":
		return Quit, nil
	}
	return Go, nil
}

// Next prints the entry, with its state when an earlier walk skipped it
// or saw it fail ("3/45 李四 LI SI (…) — skipped earlier"), and asks for a
// blank card.
func (o *LineOperator) Next(_ context.Context, pos, total int, item wire.QueueItem) (Action, error) {
	fmt.Fprintf(o.Out, "%d/%d %s %s (%s)%s\n", pos, total, item.Name, item.EmbossName, item.ApplicationNumber, earlier(item))
	if !o.Interactive {
		fmt.Fprintln(o.Out, "  put a blank card in the reader")
	}
	return o.ask("  put a blank card in the reader and press Enter (s = skip, q = quit): ")
}

// Swapping says what the walk waits for: the used card out (with the
// reason it cannot be used), then a blank card in. After Done, whose line
// already asks for the card, it says nothing.
func (o *LineOperator) Swapping(step SwapStep, item wire.QueueItem, why error) {
	switch {
	case why == nil:
	case step == TakeOut && notBlank(why):
		fmt.Fprintf(o.Out, "  %s: this card is already personalized; nothing was written to it — take it out and put a blank card in\n", item.Name)
	case step == TakeOut:
		fmt.Fprintln(o.Out, "  take that card out and put another blank card in")
	case step == PutIn:
		fmt.Fprintf(o.Out, "  waiting for a blank card for %s…\n", item.Name)
	}
}

// earlier describes an entry's state left by an earlier walk ("" when
// there is none).
func earlier(item wire.QueueItem) string {
	switch item.Personalize {
	case wire.EntrySkipped:
		return " — skipped earlier"
	case wire.EntryFailed:
		s := fmt.Sprintf(" — failed earlier (%d attempts)", item.Attempts)
		if item.Note != "" {
			s += ": " + item.Note
		}
		return s
	}
	return ""
}

// PIN calls PINFor.
func (o *LineOperator) PIN(ctx context.Context, item wire.QueueItem) (string, error) {
	if o.PINFor == nil {
		return "", ErrNoPIN
	}
	return o.PINFor(ctx, item)
}

// Failed explains the failure and asks whether to retry.
func (o *LineOperator) Failed(_ context.Context, item wire.QueueItem, err error) (Action, error) {
	fmt.Fprintf(o.Out, "  %s: %s\n", item.Name, Explain(err))
	if !o.Interactive {
		if errors.Is(err, ErrCardRemoved) || errors.Is(err, cardio.ErrNoCard) {
			return Go, nil // with the next card put in
		}
		return Skip, nil
	}
	return o.ask("  press Enter to retry (s = skip, q = quit): ")
}

// Done prints the result.
func (o *LineOperator) Done(item wire.QueueItem, res wire.PersonalizationResult, st Stats) {
	fmt.Fprintf(o.Out, "  done: %s %s chip %s (%d APDUs); take the card out\n", res.MaskedPAN, res.Name, res.ChipSerial, st.APDUs)
	if o.OnDone != nil {
		o.OnDone(item, res, st)
	}
}

// Explain turns a personalization error into one line for the operator.
func Explain(err error) string {
	var pe *client.ProblemError
	switch {
	case errors.Is(err, ErrCardRemoved):
		return "card removed — put a blank card back in and press Enter / rerun (the application was not issued)"
	case errors.Is(err, cardio.ErrNoCard):
		return "no card in the reader"
	case errors.As(err, &pe):
		switch pe.Type {
		case wire.ProblemCardNotBlank:
			return "this card is already personalized; nothing was written to it — use a blank card"
		case wire.ProblemCardRefused:
			return "the card refused personalization (not one of our blank cards?): " + pe.Detail
		case wire.ProblemCardCheckFailed:
			return "the card failed its final check; the application was not issued — retry with a blank card"
		}
		if pe.Detail != "" {
			return pe.Detail
		}
	}
	return err.Error()
}
