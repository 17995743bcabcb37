package terminal

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/volcard/volcard/cardio"
)

// pickReader returns reader, or the first reader that readers lists when
// it is empty.
func pickReader(ctx context.Context, readers cardio.Readers, reader string) (string, error) {
	if reader != "" {
		return reader, nil
	}
	names, err := readers.List(ctx)
	if err != nil {
		return "", fmt.Errorf("terminal: list readers: %w", err)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("terminal: %w", cardio.ErrNoReader)
	}
	return names[0], nil
}

// eachCard is a terminal's loop: wait for a card in reader, connect to it
// exclusively, hand it to fn, disconnect, wait for the card to leave; until
// ctx ends (then it returns nil). An error of fn is logged as failed (e.g.
// "tap failed") and the loop goes on; a reader that fails ends it.
func eachCard(ctx context.Context, readers cardio.Readers, reader string, log *slog.Logger, failed string,
	fn func(context.Context, cardio.Card) error) error {
	for {
		if err := readers.WaitForCard(ctx, reader); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("terminal: wait for card: %w", err)
		}
		if err := withCard(ctx, readers, reader, fn); err != nil && ctx.Err() == nil {
			log.Warn(failed, slog.String("err", err.Error()))
		}
		if err := readers.WaitForRemoval(ctx, reader); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("terminal: wait for removal: %w", err)
		}
	}
}

// withCard connects to the card in reader, runs fn on it and disconnects.
func withCard(ctx context.Context, readers cardio.Readers, reader string, fn func(context.Context, cardio.Card) error) error {
	card, err := readers.Connect(ctx, reader, cardio.ShareExclusive)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = card.Disconnect(dctx)
	}()
	return fn(ctx, card)
}
