package issuance

import (
	"context"
	"time"
)

// Clock tells the time. Inject a fixed clock in tests.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// NumberGenerator makes application numbers. Numbers must be unique; the
// Service retries a few times when storage reports a duplicate.
type NumberGenerator interface {
	ApplicationNumber(now time.Time) (string, error)
}

// Transactor runs fn in one storage transaction. Repository methods called
// with the ctx passed to fn take part in it, and so can other adapters (for
// example the bank gateway's outbox) that share the storage. Nested calls
// join the outer transaction.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// OrgRepo stores organisations.
type OrgRepo interface {
	// CreateOrg inserts o, sets o.ID and o.Path (parent's path + id + "/").
	CreateOrg(ctx context.Context, o *Org) error
	// GetOrg returns the org if it lies inside sc, else ErrNotFound.
	GetOrg(ctx context.Context, id int64, sc Scope) (Org, error)
	// FindOrg returns the child of parentID (0: roots) named name.
	FindOrg(ctx context.Context, parentID int64, name string) (Org, error)
}

// VolunteerRepo stores volunteers. Adapters store the sealed fields and the
// blind index, never the plaintext.
type VolunteerRepo interface {
	// CreateVolunteer inserts v and sets v.ID; a duplicate blind index is a
	// *ConflictError (What "id_number").
	CreateVolunteer(ctx context.Context, v *Volunteer) error
	GetVolunteer(ctx context.Context, id int64, sc Scope) (Volunteer, error)
	FindVolunteerByIndex(ctx context.Context, index []byte, sc Scope) (Volunteer, error)
}

// ApplicationRepo stores applications.
type ApplicationRepo interface {
	// CreateApplication inserts a and sets a.ID. A second live application
	// for the same volunteer and product is a *ConflictError (What
	// "live_application"), a duplicate number one with What
	// "application_number".
	CreateApplication(ctx context.Context, a *Application) error
	// GetApplication returns the application if inside sc, else ErrNotFound.
	GetApplication(ctx context.Context, id int64, sc Scope) (Application, error)
	// GetApplicationByNumber looks up by number, unscoped.
	GetApplicationByNumber(ctx context.Context, number string) (Application, error)
	// UpdateApplicationStatus writes a.Status, a.Reason, a.UpdatedAt and
	// a.Version+1 if the stored row still has status from and version
	// a.Version; otherwise it returns ErrConflict. On success a.Version is
	// incremented.
	UpdateApplicationStatus(ctx context.Context, a *Application, from Status) error
	// ListApplications returns up to q.Limit applications with ID < q.BeforeID
	// (when non-zero), newest first.
	ListApplications(ctx context.Context, q ApplicationQuery) ([]Application, error)
}

// ApplicationQuery is the storage-level form of ApplicationFilter.
type ApplicationQuery struct {
	Scope       Scope
	OrgPath     string // subtree filter, empty: any
	Status      Status
	ProductCode string
	Channel     Channel
	BeforeID    int64
	Limit       int
}

// EventRepo stores application events.
type EventRepo interface {
	AppendEvent(ctx context.Context, e *Event) error
	// ListEvents returns the events of one application in the order written.
	ListEvents(ctx context.Context, applicationID int64) ([]Event, error)
}

// ApplicationEventCreator is an optional capability of a Store: it inserts
// a new application and its first event together (one round trip where
// the database allows), setting a.ID, e.ApplicationID and e.ID. Apply uses
// it when the store has it, else CreateApplication then AppendEvent.
type ApplicationEventCreator interface {
	CreateApplicationWithEvent(ctx context.Context, a *Application, e *Event) error
}

// CatalogRepo stores banks, products and branches. The Put methods insert
// or update by natural key (bank code, product code, bank+city+name).
type CatalogRepo interface {
	BankRepo
	ProductRepo
	BranchRepo
}

// BankRepo stores the partner banks.
type BankRepo interface {
	PutBank(ctx context.Context, b Bank) error
	GetBank(ctx context.Context, code string) (Bank, error)
}

// ProductRepo stores the card products.
type ProductRepo interface {
	PutProduct(ctx context.Context, p Product) error
	GetProduct(ctx context.Context, code string) (Product, error)
	ListProducts(ctx context.Context) ([]Product, error)
}

// BranchRepo stores the bank branches.
type BranchRepo interface {
	PutBranch(ctx context.Context, br *Branch) error
	GetBranch(ctx context.Context, id int64) (Branch, error)
	ListBranches(ctx context.Context, bankCode string, orgID int64) ([]Branch, error)
}

// TokenRepo stores API tokens by hash.
type TokenRepo interface {
	CreateToken(ctx context.Context, t *Token) error
	// GetTokenByHash returns the token (revoked or not) with this hash.
	GetTokenByHash(ctx context.Context, hash []byte) (Token, error)
	CountTokens(ctx context.Context) (int64, error)
	RevokeToken(ctx context.Context, id int64, at time.Time) error
	// GetToken returns a token by id or ErrNotFound.
	GetToken(ctx context.Context, id int64) (Token, error)
	// ListTokens returns the tokens q selects (q.Inactive: revoked and
	// expired at now too), by id.
	ListTokens(ctx context.Context, q TokenQuery, now time.Time) ([]Token, error)
	// UpdateToken writes t's name and expiry; unknown ids are ErrNotFound.
	UpdateToken(ctx context.Context, t Token) error
}

// Store is everything the Service needs from storage. issuance/store
// implements it on PostgreSQL and SQLite.
type Store interface {
	Transactor
	BulkRepo
	OrgLister
	PersoRepo
	OrgRepo
	OrgRepoUpdater
	AuditRepo
	VolunteerUpdater
	VolunteerRepo
	ApplicationRepo
	EventRepo
	CatalogRepo
	TokenRepo
	// The bank's side of a card: the cards it issued (bank.go), their
	// status changes (cards.go) and its advices (advices.go).
	IssuedCardRepo
	CardLifecycleRepo
	CardExpiryRepo
	RenewalRepo
	BankAdviceRepo
}

// TransitionHook runs inside the transaction of every status change, after
// the application row and event are written; an error rolls the change
// back. The bank gateway uses it to write its outbox row when an
// application enters bank_pending.
type TransitionHook interface {
	OnTransition(ctx context.Context, a Application, e Event) error
}

// TransitionHookFunc adapts a function to TransitionHook.
type TransitionHookFunc func(ctx context.Context, a Application, e Event) error

// OnTransition calls f.
func (f TransitionHookFunc) OnTransition(ctx context.Context, a Application, e Event) error {
	return f(ctx, a, e)
}

// CardHook runs inside the transaction of a card event that ends the card's
// use (WithCardHooks), after the card row and its event are written; an
// error rolls the change back.
type CardHook interface {
	OnCardEvent(ctx context.Context, c Card, e CardEvent) error
}

// CardHookFunc adapts a function to CardHook.
type CardHookFunc func(ctx context.Context, c Card, e CardEvent) error

// OnCardEvent calls f.
func (f CardHookFunc) OnCardEvent(ctx context.Context, c Card, e CardEvent) error {
	return f(ctx, c, e)
}
