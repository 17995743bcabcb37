// Package seed loads demonstration data into an empty volcard database:
// the Guangdong province organisation, its 21 prefecture-level cities with
// their GB/T 2260 codes and 2016 year-end resident populations, Meizhou's
// county-level divisions, a few universities, the partner banks, the card
// products and one branch with a contact per city and bank. Loading is
// idempotent: running it twice changes nothing.
package seed
