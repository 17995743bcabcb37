// Package rebates owns the donation rebates of the card's payment function
// (issue 18): the rates as data per bank and product with effective dates
// (basis points of the spending the bank donates, and the provincial
// volunteer foundation's share of the donation), and the monthly
// statements per city and university computed from the spending advices
// in card_spending, refunds and reversals netted, in integer fen, with one
// rounding rule (Compute) that makes every line and total reconcile
// exactly with its advices (Check recomputes them advice by advice).
// Statements are generated once per ended month and never change after.
//
// The rules are documented in docs/insurance-and-rebates.md.
package rebates
