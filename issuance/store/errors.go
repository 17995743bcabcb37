package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
	"gorm.io/gorm"

	"github.com/volcard/volcard/issuance"
)

// uniqueWhat names the rule behind each unique index, for
// issuance.ConflictError.What. PostgreSQL reports the index name; SQLite
// reports "table.column" lists, or the index name for expression indexes.
var uniqueWhat = []struct{ pgIndex, sqliteText, what string }{
	{"applications_number", "applications.number", "application_number"},
	{"applications_live", "applications.volunteer_id", "live_application"},
	{"volunteers_id_number_idx", "volunteers.id_number_idx", "id_number"},
	{"orgs_parent_name", "orgs_parent_name", "org_name"},
	{"api_tokens_hash", "api_tokens.hash", "token"},
	{"branches_bank_org_name", "branches.bank_code", "branch"},
	{"bank_requests_apply_once", "bank_requests.application_id", "bank_request"},
	{"bank_requests_change_open", "bank_requests_change_open", "card_change"},
	{"cards_application_seq", "cards.application_id, cards.replace_seq", "card_replacement"},
	{"cards_application_current", "cards.application_id", "card"},
	{"cards_application", "cards.application_id", "card"},
	{"cards_pan_token", "cards.pan_token", "card_pan"},
	{"volunteers_platform_number", "volunteers.volunteer_number", "platform_number"},
	{"platform_requests_volunteer", "platform_requests.volunteer_id", "platform_request"},
	{"import_batches_pkey", "import_batches.import_id", "import_batch"},
	{"insurance_policies_number", "insurance_policies.policy_number", "policy_number"},
	{"insurance_policies_from", "insurance_policies.effective_from", "policy_effective_from"},
	{"rebate_rates_from", "rebate_rates.bank_code", "rebate_rate"},
}

// mapErr turns driver errors into issuance errors: no rows → ErrNotFound,
// unique violations → *issuance.ConflictError. Other errors pass through.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return issuance.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		for _, u := range uniqueWhat {
			if pgErr.ConstraintName == u.pgIndex {
				return &issuance.ConflictError{What: u.what}
			}
		}
		return &issuance.ConflictError{What: pgErr.ConstraintName}
	}
	var sqErr *sqlite3.Error
	if errors.As(err, &sqErr) && (sqErr.ExtendedCode() == sqlite3.CONSTRAINT_UNIQUE ||
		sqErr.ExtendedCode() == sqlite3.CONSTRAINT_PRIMARYKEY) {
		// SQLite has no structured constraint name; the message is stable.
		msg := sqErr.Error()
		for _, u := range uniqueWhat {
			if strings.Contains(msg, u.sqliteText) {
				return &issuance.ConflictError{What: u.what}
			}
		}
		return &issuance.ConflictError{What: "unique"}
	}
	return err
}

// ErrSTANExhausted means a sender used all 999999 STANs of a UTC day.
var ErrSTANExhausted = errors.New("store: STANs of the day exhausted")
