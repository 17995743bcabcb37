// Package platformlink is volcard's link to the provincial volunteer
// platform ("i志愿"): it owns the registration requests of people
// registered at a bank branch or on site (queued by storage in the
// transaction that registers them, sent by the Worker through a Registrar,
// the platform's number written back), the operators' list and retry of
// those requests, the staff's setting of a platform number later, and the
// bulk import of the platform's volunteers and service hours.
//
// The platform itself sits behind the Registrar port; package platform
// implements it over HTTPS (docs/platform-interface.md, section 3) and
// platform/platformsim is the simulator beside it.
package platformlink
