// Package settlement reads and writes the daily settlement file a partner
// bank drops for volcard (docs/bank-interface.md, section "Daily settlement
// file"): one line per card the bank holds for volcard, between a header
// naming the bank, the business date and the row count, and a trailer
// carrying the row count again and an HMAC-SHA256 of everything before it.
//
// The file never carries a clear PAN: a card is named by its application
// number, replacement sequence, the PAN's last four digits and a PAN MAC,
// HMAC-SHA256 under a key derived from the bank's reconciliation key, so
// volcard can check the full PAN without either side writing it down.
//
// Reader streams: it holds one line at a time, however long the file.
package settlement
