// Package personalize is the branch client of a personalization session:
// it waits for a blank card, opens the session on the server, relays each
// APDU batch to the card and posts the card's responses back until the
// server answers with the result. It holds no keys and sees no clear card
// data: the server's commands are already protected (SCP02 C-MAC, sensitive
// DGIs encrypted under the session DEK).
//
// Runner.Personalize does one card; Runner.Batch walks an on-site batch
// queue in roster order. `volcard personalize` is the command around them.
package personalize
