// Package console holds the staff web console: a static page, its label
// table (labels.js: every state, channel and role in Chinese and English),
// its script and style sheet, embedded in the binary (nothing is loaded from
// the internet). The page signs in with an API token kept in
// sessionStorage, asks GET /v1/me for the token's role and shows that role's
// pages (VIEWS in app.js); it talks to the JSON API with fetch. Package api
// serves it at "/". docs/console.md maps every staff route to its page.
package console
