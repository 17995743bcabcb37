// Package insurance owns the basic volunteer insurance that comes with the
// card (issue 18): the policies as data (insurer, policy number, cover of
// 100,000 CNY, effective dates), one enrolment per holder started by the
// activation of the holder's card in the same transaction (Enrol, a
// transition hook) and ended when the holder's last live card expires or
// is closed (End, a card hook; EndCover for callers without a card event),
// the insurer's daily file of additions and terminations (WriteFile,
// ParseFile) and a per-organisation report.
//
// The format of the daily file and the rules are in
// docs/insurance-and-rebates.md.
package insurance
