package api

// cardsOpenAPI adds the card routes and schemas to the OpenAPI document.
// openAPIDocument calls it.
func cardsOpenAPI(paths, schemas obj) {
	staff := []string{"province_admin", "org_admin", "bank_staff"}
	idParam := pathParam("id", "Card id")
	notFound := problem("No such card in scope (not-found).")
	change := func(id, summary string) obj {
		o := op(id, summary, staff, []obj{idParam, idempotencyHeader}, "CardChange", obj{
			"200": jsonResponse("Nothing to do: the change is already pending, or the card is already in that state.", "Card"),
			"202": jsonResponse("Accepted: sent to the bank through the outbox; the card shows the pending change until the bank confirms.", "Card"),
			"404": notFound,
			"409": problem("Not possible from the card's state, another change pending, or a request with the same Idempotency-Key in flight (illegal-transition, idempotency-in-flight)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})
		return obj{"post": o}
	}
	paths["/v1/cards/{id}"] = obj{"get": op("getCard", "A bank-issued card: masked PAN, last four, state, expiry, PSN, application.", readRoles,
		[]obj{idParam}, "", obj{"200": jsonResponse("The card.", "Card"), "404": notFound})}
	paths["/v1/cards/{id}/events"] = obj{"get": op("listCardEvents", "Who asked for which change of the card, and what the bank answered, oldest first.", readRoles,
		[]obj{idParam}, "", obj{"200": jsonResponse("Events.", "CardEventList"), "404": notFound})}
	paths["/v1/volunteers/{id}/cards"] = obj{"get": op("listVolunteerCards", "A volunteer's cards, current and replaced, oldest first (bank staff: their bank's only).", readRoles,
		[]obj{pathParam("id", "Volunteer id")}, "", obj{"200": jsonResponse("Cards.", "CardList"), "404": problem("No such volunteer in scope (not-found).")})}
	paths["/v1/cards/{id}/block"] = change("blockCardAtBank",
		"Block a card (lost, stolen) at the bank; reason required. Check-in refuses the card from now on (state block_pending, then blocked).")
	paths["/v1/cards/{id}/unblock"] = change("unblockCard",
		"Unblock a blocked card at the bank (reason optional); it returns to the state it had before the block.")
	paths["/v1/cards/{id}/replace"] = change("replaceCard",
		"Replace a handed-over card (lost, stolen, damaged) at the bank; reason required. The bank issues a new PAN for the same application: "+
			"the old card becomes replaced, the new one the application's card, and the application goes back to bank_approved for personalization.")
	paths["/v1/orgs/{id}/cards/expiring"] = obj{"get": op("listExpiringCards",
		"The current cards (issued, active, blocked) of the organisation and its subtree whose validity ends within the given days, soonest first: "+
			"a card is valid through the last day of its expiry month, China time. Cards already past it that the daily expire-cards job has not marked yet are included. At most 5,000.",
		[]string{"province_admin", "org_admin"},
		[]obj{pathParam("id", "Organisation id"), queryParam("within", "Look-ahead in days, 1d to 732d; default 90d.", obj{"type": "string", "pattern": "^[0-9]+d$", "default": "90d"})}, "",
		obj{"200": jsonResponse("Cards.", "ExpiringCardList"), "400": problem("within is not 1d to 732d (validation)."),
			"404": problem("No such organisation in scope (not-found).")})}
	paths["/v1/cards/{id}/renew"] = obj{"post": op("renewCard",
		"Renew one card at the bank (ST N): an issued, active or expired card whose application was handed over; reason optional. "+
			"The bank answers with the renewed card (same PAN with a new expiry and PSN, or a new PAN, by its rule); the application goes back to bank_approved "+
			"for the renewed card's personalization.",
		[]string{"province_admin", "org_admin"}, []obj{idParam, idempotencyHeader}, "CardChange", obj{
			"200": jsonResponse("Nothing to do: a renewal is already pending.", "Card"),
			"202": jsonResponse("Accepted: sent to the bank through the outbox (state renew_pending).", "Card"),
			"404": notFound,
			"409": problem("Not possible from the card's state (blocked, closed, replaced), another change pending (illegal-transition), or idempotency-in-flight."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	paths["/v1/cards/{id}/close"] = obj{"post": op("closeCard",
		"Close a card at the bank for good (ST C): the holder left, died, or the card is given up for another. When the bank confirms, the card is closed "+
			"(check-in refuses it as card-closed) and its application cancelled.",
		staff, []obj{idParam, idempotencyHeader}, "CloseCard", obj{
			"200": jsonResponse("Nothing to do: the card is closed or its closing is pending.", "Card"),
			"202": jsonResponse("Accepted: sent to the bank through the outbox (state close_pending).", "Card"),
			"400": problem("reason is not one of the list, or note too long (validation)."),
			"404": notFound,
			"409": problem("Another change pending, a replaced card (illegal-transition), or idempotency-in-flight."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	paths["/v1/orgs/{id}/cards/renewals"] = obj{"post": op("createRenewalBatch",
		"Renew in one batch the current cards (issued, active, expired) of the organisation and its subtree whose validity ends before expiring_before "+
			"(China time), or, with expired, the cards marked expired: one renewal through the bank per card (at most 2,000); a card with another change "+
			"on its way is skipped with the reason. Running the same batch again sends nothing twice.",
		[]string{"province_admin", "org_admin"}, []obj{pathParam("id", "Organisation id"), idempotencyHeader}, "RenewalRequest", obj{
			"201": jsonResponse("The batch: progress and per-card results.", "RenewalBatch"),
			"400": problem("Neither or both of expiring_before and expired, a bad date, or more than two years ahead (validation)."),
			"404": problem("No such organisation in scope (not-found)."),
			"409": problem("idempotency-in-flight."), "422": problem("idempotency-mismatch."),
		})}
	paths["/v1/renewals/{id}"] = obj{"get": op("getRenewalBatch", "A renewal batch: progress (pending, renewed, refused, skipped) and each card's result.",
		[]string{"province_admin", "org_admin"}, []obj{pathParam("id", "Renewal batch id")}, "", obj{
			"200": jsonResponse("The batch.", "RenewalBatch"), "404": problem("No such batch in scope (not-found)."),
		})}
	testOp := func(id, summary, body string) obj {
		return obj{"post": op(id, summary, []string{"province_admin", "bank_staff"}, []obj{idParam}, body, obj{
			"200": jsonResponse("The advice the embedded bank sent and the response code volcard answered (00: recorded).", "TestAdviceResult"),
			"400": problem("Bad amount, kind or merchant (validation)."),
			"404": notFound,
			"409": problem("The card's bank is a real bank, not the embedded simulator: nothing sent (test-bank-unavailable)."),
		})}
	}
	paths["/v1/test/cards/{id}/activate"] = testOp("testActivateCard",
		"Test helper (embedded bank simulator only, like a payment provider's test mode): the simulator of the card's bank sends the card's activation advice "+
			"(0220, 3 = 900000) over its link, and the normal advice path activates the card.", "")
	paths["/v1/test/cards/{id}/spending"] = testOp("testCardSpending",
		"Test helper (embedded bank simulator only): the simulator of the card's bank sends a spending advice (0220, 3 = 000000, field 48 SK for a refund "+
			"or reversal) over its link; the normal advice path records it.", "TestSpending")
	state := enum("Shown state: issued, active, blocked, replaced, closed, expired, or <change>_pending while the bank has not confirmed a change.",
		"issued", "active", "blocked", "replaced", "closed", "expired", "block_pending", "unblock_pending", "replace_pending", "renew_pending", "close_pending")
	ts := obj{"type": "string", "format": "date-time"}
	schemas["CardChange"] = object(nil, obj{"reason": str("Why (lost, stolen, damaged ...); required for block and replace, at most 200 characters, no card data.")})
	schemas["Card"] = object(nil, obj{
		"id": integer("Card id."), "application_id": integer("Application id."), "application_number": str("Application number (the bank's key)."),
		"application_status": ref("Status"), "volunteer_id": integer("Holder."), "product": str("Product code."), "bank": str("Bank code."),
		"masked_pan": str("PAN with all but the first six and last four digits masked."), "last_four": str("Last four digits."),
		"expiry": str("YYMM."), "psn": str("PAN sequence number."), "state": state,
		"confirmed_state": enum("State last confirmed by the bank, or expired (set by the daily expire-cards job).", "issued", "active", "blocked", "replaced", "closed", "expired"),
		"pending_change":  enum("Change on its way to the bank.", "block", "unblock", "replace", "renew", "close"),
		"replace_seq":     integer("The bank's replacement sequence (RS) that issued the card; 0 for the first card."),
		"replaced_by":     integer("The card that replaced this one."),
		"block_reason":    str("Reason of the last block or replacement."),
		"created_at":      ts, "activated_at": ts, "updated_at": ts,
	})
	schemas["CardList"] = object(nil, obj{"items": arrayOf(ref("Card"))})
	schemas["CloseCard"] = object([]string{"reason"}, obj{
		"reason": enum("Why the card is closed.", "holder_left", "deceased", "replaced", "holder_request"),
		"note":   str("Optional note, at most 200 characters, no card data.")})
	schemas["RenewalRequest"] = object(nil, obj{
		"expiring_before": obj{"type": "string", "format": "date", "description": "Renew the cards whose validity ends before this day (YYYY-MM-DD, China time), expired ones included."},
		"expired":         boolean("Renew only the cards marked expired."),
		"note":            str("Optional note kept on each card's event, at most 200 characters.")})
	schemas["RenewalBatch"] = object(nil, obj{
		"id": integer("Batch id."), "org_id": integer("Organisation."), "through": str("YYMM: the cards with expiry at most this month were selected."),
		"expired_only": boolean("Only cards marked expired were selected."), "created_at": ts,
		"progress": obj{"type": "object", "additionalProperties": obj{"type": "integer"}, "description": "Cards by state: pending, renewed, refused, skipped."},
		"items": arrayOf(object(nil, obj{"card_id": integer("Card."), "last_four": str("Last four digits."), "expiry": str("YYMM before renewal."),
			"state":       enum("pending (at the bank), renewed, refused (by the bank), skipped (not sent).", "pending", "renewed", "refused", "skipped"),
			"result_code": str("The bank's response code."), "reason": str("Why refused or skipped."),
			"new_card_id": integer("The renewed card to personalize (the same card when the bank kept the PAN).")}))})
	schemas["TestSpending"] = object([]string{"amount_fen"}, obj{
		"amount_fen": integer("Amount in fen, 1 to 100000000."),
		"kind":       enum("Spending kind; default purchase.", "purchase", "refund", "reversal"),
		"merchant":   str("Merchant name, at most 40 characters; default the simulator's.")})
	schemas["TestAdviceResult"] = object(nil, obj{"card_id": integer("Card."), "advice": str("activation, purchase, refund or reversal."),
		"rrn": str("RRN (field 37) of the advice."), "response_code": str("Our 0230's response code: 00 recorded.")})
	schemas["ExpiringCardList"] = object(nil, obj{"items": arrayOf(obj{"allOf": []obj{ref("Card"),
		object(nil, obj{"valid_through": str("Last day the card is valid, YYYY-MM-DD, China time.")})}})})
	schemas["CardEventList"] = object(nil, obj{"items": arrayOf(object(nil, obj{
		"kind":   enum("requested (by staff), confirmed or refused (by the bank), issued (a replacement card), expired (marked by the daily expire-cards job).", "requested", "confirmed", "refused", "issued", "expired"),
		"change": enum("The change.", "block", "unblock", "replace", "renew", "close"), "actor_role": str("Role of the actor (system for the bank's answers)."),
		"channel": str("Channel."), "reason": str("Reason."), "result_code": str("The bank's response code (field 39)."), "at": ts,
	}))})
}
