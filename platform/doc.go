// Package platform is the adapter to the provincial volunteer platform
// ("i志愿"): the registration call of docs/platform-interface.md section 3
// (JSON over HTTPS, bearer token, idempotency key), its wire types, and
// the Client that implements issuance/platformlink.Registrar. The
// simulator beside it is platform/platformsim, as bankgw/banksim sits
// beside the bank gateway.
package platform
