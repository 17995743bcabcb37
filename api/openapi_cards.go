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
	state := enum("Shown state: issued, active, blocked, replaced, cancelled, expired, or <change>_pending while the bank has not confirmed a change.",
		"issued", "active", "blocked", "replaced", "cancelled", "expired", "block_pending", "unblock_pending", "replace_pending")
	ts := obj{"type": "string", "format": "date-time"}
	schemas["CardChange"] = object(nil, obj{"reason": str("Why (lost, stolen, damaged ...); required for block and replace, at most 200 characters, no card data.")})
	schemas["Card"] = object(nil, obj{
		"id": integer("Card id."), "application_id": integer("Application id."), "application_number": str("Application number (the bank's key)."),
		"application_status": ref("Status"), "volunteer_id": integer("Holder."), "product": str("Product code."), "bank": str("Bank code."),
		"masked_pan": str("PAN with all but the first six and last four digits masked."), "last_four": str("Last four digits."),
		"expiry": str("YYMM."), "psn": str("PAN sequence number."), "state": state,
		"confirmed_state": enum("State last confirmed by the bank, or expired (set by the daily expire-cards job).", "issued", "active", "blocked", "replaced", "cancelled", "expired"),
		"pending_change":  enum("Change on its way to the bank.", "block", "unblock", "replace"),
		"replace_seq":     integer("The bank's replacement sequence (RS) that issued the card; 0 for the first card."),
		"replaced_by":     integer("The card that replaced this one."),
		"block_reason":    str("Reason of the last block or replacement."),
		"created_at":      ts, "activated_at": ts, "updated_at": ts,
	})
	schemas["CardList"] = object(nil, obj{"items": arrayOf(ref("Card"))})
	schemas["ExpiringCardList"] = object(nil, obj{"items": arrayOf(obj{"allOf": []obj{ref("Card"),
		object(nil, obj{"valid_through": str("Last day the card is valid, YYYY-MM-DD, China time.")})}})})
	schemas["CardEventList"] = object(nil, obj{"items": arrayOf(object(nil, obj{
		"kind":   enum("requested (by staff), confirmed or refused (by the bank), issued (a replacement card), expired (marked by the daily expire-cards job).", "requested", "confirmed", "refused", "issued", "expired"),
		"change": enum("The change.", "block", "unblock", "replace"), "actor_role": str("Role of the actor (system for the bank's answers)."),
		"channel": str("Channel."), "reason": str("Reason."), "result_code": str("The bank's response code (field 39)."), "at": ts,
	}))})
}
