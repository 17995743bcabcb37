// Package paytest holds the end-to-end payment tests: a small test-side
// EMV kernel (kernel_test.go) that takes a card personalized by
// personalization/dataprep through pcscd and the vpcd driver, performs a
// whole contact transaction (selection, GET PROCESSING OPTIONS, records,
// DDA, offline PIN, terminal risk management, terminal action analysis,
// GENERATE AC, online authorization with the bank simulator over ISO 8583,
// EXTERNAL AUTHENTICATE, second GENERATE AC) and checks the outcome. The
// package has no code outside its tests.
package paytest
