package vpcd_test

import (
	"context"
	"errors"
	"log"
	"os"
	"os/signal"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/vpcd"
)

// ExampleServe puts a card into pcscd's first virtual reader until Ctrl-C.
func ExampleServe() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var card vpcd.Responder = &echoCard{} // e.g. a *cardsim.Card
	err := vpcd.Serve(ctx, "127.0.0.1:35963", card)
	if err != nil && !errors.Is(err, cardio.ErrCardRemoved) {
		log.Fatal(err)
	}
}
