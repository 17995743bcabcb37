package api

import "maps"

// checkinOpenAPI adds the check-in routes and schemas to the OpenAPI document.
// EnableCheckin calls it.
func checkinOpenAPI(paths, schemas obj) {
	maps.Copy(paths, checkinPaths())
	maps.Copy(schemas, checkinSchemas())
}

// checkinPaths are the OpenAPI path items of the check-in routes.
func checkinPaths() obj {
	idParam := func(what string) obj { return pathParam("id", what+" id") }
	terminal := []string{"terminal"}
	admins := []string{"province_admin", "org_admin"}
	cardProblems := func(r obj) obj {
		r["404"] = problem("Activity not found or out of the terminal's scope (not-found), or the card is linked to no volunteer (card-unknown).")
		r["403"] = problem("The caller's role may not use this route (forbidden), or the card is blocked (card-blocked), closed at the bank (card-closed) or past its expiry month (card-expired).")
		r["409"] = problem("Challenge already used (challenge-replayed), the same card signature presented before (evidence-replayed), or the sequence number reused for another tap (sequence-reused).")
		r["422"] = problem("Challenge unknown or expired (challenge-invalid), or the card failed authentication: certificate chain, PAN in the ICC certificate, or signature over the challenge (card-not-genuine).")
		return r
	}
	tapOp := op("postTap", "Record a tap of a card at an activity: check in, or check out with hours.", terminal,
		[]obj{idParam("Activity")}, "TapRequest", obj{
			"201": jsonResponse("The decision (new tap).", "TapResult"),
			"200": jsonResponse("The first decision for this terminal and seq (replayed: true).", "TapResult"),
		})
	tapOp["description"] = "Roles: terminal. Idempotent by (terminal token, seq). The card evidence is verified server-side " +
		"(CA → issuer → ICC certificates, PAN, signature 9F4B over the DDOL data carrying the challenge). The clear PAN is " +
		"only used to compute its token; it is never stored."
	cardProblems(tapOp["responses"].(obj))
	benefitsOp := op("checkBenefits", "Merchant check: card evidence → tier and offers, masked name only.",
		[]string{"terminal", "platform", "province_admin", "org_admin"}, nil, "BenefitsRequest", obj{
			"200": jsonResponse("Tier and offers.", "Benefits"),
		})
	cardProblems(benefitsOp["responses"].(obj))
	return obj{
		"/v1/terminals/challenge": obj{"post": op("issueChallenge", "A fresh 4-byte challenge for one DDA (single use, short expiry).", terminal, nil, "",
			obj{"201": jsonResponse("The challenge.", "Challenge")})},
		"/v1/terminals/self": obj{"get": op("getTerminalState",
			"What a terminal checks at start: its token (401 unknown or revoked, 403 not a terminal token), the activity it "+
				"taps at (404 when it does not exist or lies outside the token's organisation subtree), and the highest tap "+
				"sequence number the server holds for the token, after which a terminal with a new queue file, or one that "+
				"finds its number taken by another terminal on the same token (sequence-reused), goes on.", terminal,
			[]obj{queryParam("activity", "The activity to check.", obj{"type": "integer", "minimum": 1})}, "", obj{
				"200": jsonResponse("The terminal's state.", "TerminalState"),
				"404": problem("Activity not found or out of the token's scope (not-found)."),
			})},
		"/v1/activities": obj{"get": op("listActivities",
			"List activities in scope, newest start first, with cursor pagination like GET /v1/applications: an org admin or a "+
				"terminal sees its organisation's subtree, bank staff its branch's city, a province admin and the platform all. "+
				"from and to select the activities overlapping [from, to): from alone gives those still running or ahead at from "+
				"(the console asks for today's and upcoming ones with from = midnight). Each item carries the organisation's name "+
				"and the check-in figures.", allRoles,
			[]obj{
				queryParam("org", "Only activities of this organisation's subtree.", obj{"type": "integer", "minimum": 1}),
				queryParam("from", "Only activities ending after this instant (RFC 3339).", obj{"type": "string", "format": "date-time"}),
				queryParam("to", "Only activities starting before this instant (RFC 3339); after from.", obj{"type": "string", "format": "date-time"}),
				queryParam("limit", "Page size, 1–200 (default 50).", obj{"type": "integer", "minimum": 1, "maximum": 200}),
				queryParam("cursor", "next_cursor of the previous page.", obj{"type": "string"}),
			}, "", obj{
				"200": jsonResponse("One page.", "ActivityPage"),
				"400": problem("Bad filter, window or cursor (validation)."),
				"404": problem("Organisation filter out of scope (not-found)."),
			}), "post": op("createActivity", "Create an activity of an organisation in the caller's scope.", admins,
			[]obj{idempotencyHeader}, "NewActivity", obj{
				"201": jsonResponse("Created.", "Activity"),
				"409": problem("A request with the same Idempotency-Key in flight (idempotency-in-flight)."),
				"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
			})},
		"/v1/activities/{id}": obj{"get": op("getActivity", "Get an activity.", allRoles, []obj{idParam("Activity")}, "",
			obj{"200": jsonResponse("The activity.", "Activity"), "404": problem("Not found or out of scope (not-found).")})},
		"/v1/activities/{id}/taps": obj{"post": tapOp},
		"/v1/volunteers/{id}/service-record": obj{"get": op("getServiceRecord", "Hours by year, activities, star level and tier.", allRoles,
			[]obj{idParam("Volunteer")}, "", obj{"200": jsonResponse("The record.", "ServiceRecord"),
				"404": problem("Not found or out of scope (not-found).")})},
		"/v1/volunteers/{id}/service-hours": obj{"post": op("addServiceHours", "Add (or remove, negative) hours outside taps, e.g. imported from the volunteer platform; audited.", admins,
			[]obj{idParam("Volunteer"), idempotencyHeader}, "AddHours", obj{"200": jsonResponse("The record after the change.", "ServiceRecord"),
				"404": problem("Not found or out of scope (not-found).")})},
		"/v1/attendances/{id}/correction": obj{"post": op("correctAttendance", "Correct an attendance's check-in and check-out times; audited.", admins,
			[]obj{idParam("Attendance"), idempotencyHeader}, "Correction", obj{"200": jsonResponse("The corrected attendance.", "AttendanceItem"),
				"404": problem("Not found or out of scope (not-found).")})},
		"/v1/orgs/{id}/member-hours": obj{"get": op("getMemberHours", "League and party members' hours against the yearly expectation (20 h), per organisation of the subtree.", admins,
			[]obj{idParam("Organisation"), queryParam("year", "Year; default the current year.", obj{"type": "integer"})}, "",
			obj{"200": jsonResponse("The report.", "MemberHoursReport"), "400": problem("Bad year (validation)."),
				"404": problem("Not found or out of scope (not-found).")})},
		"/v1/offers": obj{"post": op("createOffer", "Attach an offer to a benefit tier for an organisation's subtree (audited: offer_created).", admins,
			[]obj{idempotencyHeader}, "NewOffer", obj{"201": jsonResponse("Created.", "Offer"),
				"404": problem("Organisation not found or out of scope (not-found).")}),
			"get": op("listOffers", "List the offers of the organisations in the caller's scope (an org admin its subtree, the "+
				"province admin all), oldest first; withdrawn offers only with withdrawn=true.", admins,
				[]obj{
					queryParam("org", "Only offers of this organisation's subtree.", obj{"type": "integer", "minimum": 1}),
					queryParam("withdrawn", "Include withdrawn offers (kept for history).", obj{"type": "boolean"}),
				}, "", obj{"200": jsonResponse("The offers.", "OfferList"), "400": problem("Bad filter (validation)."),
					"404": problem("Organisation filter out of scope (not-found).")})},
		"/v1/offers/{id}": obj{
			"get": op("getOffer", "Get an offer of an organisation in scope.", admins, []obj{idParam("Offer")}, "",
				obj{"200": jsonResponse("The offer.", "Offer"), "404": problem("Not found or out of scope (not-found).")}),
			"patch": op("changeOffer", "Change an offer: absent fields stay; valid_from or valid_until null opens that end. "+
				"Audited (offer_changed, fields before and after); a change that changes nothing writes nothing.", admins,
				[]obj{idParam("Offer"), idempotencyHeader}, "OfferChange", obj{
					"200": jsonResponse("The offer after the change.", "Offer"),
					"404": problem("Not found or out of scope (not-found); nothing is written."),
					"409": problem("The offer was withdrawn (conflict): a withdrawn offer is kept as it was."),
				})},
		"/v1/offers/{id}/withdraw": obj{"post": op("withdrawOffer", "Withdraw an offer: kept for history, no longer offered "+
			"(audited: offer_withdrawn with the reason). Withdrawing it again answers it as it is and writes nothing.", admins,
			[]obj{idParam("Offer"), idempotencyHeader}, "Decision", obj{
				"200": jsonResponse("The withdrawn offer.", "Offer"),
				"404": problem("Not found or out of scope (not-found); nothing is written."),
			})},
		"/v1/cards/block": obj{"post": op("blockCard", "Block a card (lost, stolen) by PAN. A card the bank issued (in the caller's scope) is "+
			"blocked at the bank like POST /v1/cards/{id}/block (202 or 200 with the card); any other card is blocked at check-in only "+
			"(204; only its token is stored): a card bound to a volunteer in the caller's scope, or, for the province admin, a card volcard does not know yet.",
			[]string{"province_admin", "org_admin", "bank_staff"}, []obj{idempotencyHeader}, "BlockCard", obj{
				"200": jsonResponse("A bank card whose block is already pending or done.", "Card"),
				"202": jsonResponse("A bank card: the block is on its way to the bank (state block_pending).", "Card"),
				"204": obj{"description": "Blocked at check-in."},
				"404": problem("The card is outside the caller's scope, or volcard does not know it and the caller is not the province admin (not-found); nothing is written."),
				"409": problem("A bank card that cannot be blocked now (illegal-transition)."),
			})},
		"/v1/cards/unblock": obj{"post": op("unblockCardByPAN", "Unblock a card by PAN. A card the bank issued (in the caller's scope) is "+
			"unblocked at the bank like POST /v1/cards/{id}/unblock (202 or 200 with the card); any other card has its check-in block lifted (204).",
			[]string{"province_admin", "org_admin", "bank_staff"}, []obj{idempotencyHeader}, "UnblockCard", obj{
				"200": jsonResponse("A bank card whose unblock is already pending or done.", "Card"),
				"202": jsonResponse("A bank card: the unblock is on its way to the bank (state unblock_pending).", "Card"),
				"204": obj{"description": "The check-in block is lifted."},
				"404": problem("No check-in block of a card in the caller's scope (not-found); nothing is written."),
				"409": problem("A bank card that cannot be unblocked now (illegal-transition)."),
			})},
		"/v1/benefits/check": obj{"post": benefitsOp},
		"/v1/benefits/redemptions": obj{"post": op("redeemOffer", "Record that the terminal granted an offer after its benefit "+
			"check (check_id, at most 10 minutes old), with the cardholder verification it reports: offline_pin (the card "+
			"verified the PIN) or none. The terminal is an authenticated device: the server cannot see the PIN check and "+
			"records the CVM reported, refusing none for an offer that requires the PIN. Idempotent by check and offer.", terminal,
			nil, "RedemptionRequest", obj{
				"201": jsonResponse("Recorded.", "Redemption"),
				"200": jsonResponse("Already recorded for this check and offer (replayed: true).", "Redemption"),
				"404": problem("No benefit check with this id by this terminal (not-found)."),
				"409": problem("The check is older than 10 minutes (benefit-check-expired), the offer is not offered to the holder here now (offer-not-offered), or it requires the PIN and cvm is none (pin-required)."),
			})},
		"/v1/offers/{id}/redemptions": obj{"get": op("listRedemptions", "The redemptions of an offer in scope, oldest first.", admins,
			[]obj{idParam("Offer")}, "", obj{"200": jsonResponse("The redemptions.", "RedemptionList"),
				"404": problem("Not found or out of scope (not-found).")})},
	}
}

// checkinSchemas are the OpenAPI schemas of the check-in routes.
func checkinSchemas() obj {
	hex := func(desc string) obj {
		return obj{"type": "string", "pattern": "^([0-9A-Fa-f]{2})*$", "description": desc}
	}
	dt := obj{"type": "string", "format": "date-time"}
	withDesc := func(o obj, desc string) obj {
		return obj{"type": o["type"], "format": o["format"], "description": desc}
	}
	num := func(desc string) obj { return obj{"type": "number", "description": desc} }
	tier := enum("Benefit tier.", "card_holder", "star", "five_star")
	recordTier := enum("Benefit tier; none while the volunteer holds no card check-in accepts (benefits come with the card).",
		"none", "card_holder", "star", "five_star")
	evidence := object([]string{"aid", "pan", "aip", "afl", "records", "ddol_data", "sdad"}, obj{
		"aid": hex("Selected AID."), "pan": str("Clear PAN (TLS only); checked against the signed record and the ICC certificate, then tokenised; never stored."),
		"aip": hex("AIP (82)."), "afl": hex("AFL (94)."),
		"records": arrayOf(object([]string{"sfi", "number", "raw"}, obj{"sfi": obj{"type": "integer"}, "number": obj{"type": "integer"}, "raw": hex("Record, 70 template included.")})),
		"certificates": object(nil, obj{"ca_index": hex("8F."), "issuer_cert": hex("90."), "issuer_remainder": hex("92."),
			"issuer_exponent": hex("9F32."), "icc_cert": hex("9F46."), "icc_remainder": hex("9F48."), "icc_exponent": hex("9F47.")}),
		"ddol_data": hex("DDOL data sent in INTERNAL AUTHENTICATE; 9F37 is the challenge."),
		"sdad":      hex("Signed dynamic application data (9F4B)."),
	})
	return obj{
		"Challenge": object(nil, obj{"challenge_id": str("Opaque id."), "un": hex("4-byte unpredictable number for 9F37."), "expires_at": dt}),
		"TerminalState": object([]string{"last_seq"}, obj{
			"last_seq": integer("Highest tap sequence number the server holds for this token (0 when none)."),
			"activity": ref("Activity")}),
		"CardEvidence": evidence,
		"TapRequest": object([]string{"seq", "card"}, obj{
			"seq":          integer("Terminal sequence number (persisted); same seq → first result."),
			"challenge_id": str("Server challenge signed by the card; required unless offline."),
			"offline":      boolean("Tap made while the server was unreachable (terminal's own UN); marked offline_evidence."),
			"at":           obj{"type": "string", "format": "date-time", "description": "When an offline tap happened."},
			"card":         ref("CardEvidence"),
		}),
		"TapResult": obj{"type": "object", "properties": obj{
			"tap_id": integer("Tap."), "kind": enum("check_in or check_out.", "check_in", "check_out"),
			"activity_id": integer("Activity."), "activity_title": str("Title."), "volunteer_id": integer("Volunteer."),
			"volunteer_name": str("Name, for the terminal display."), "at": dt, "checked_in_at": dt,
			"session_minutes": integer("Minutes credited for this session (check-out)."), "session_hours": num("Hours credited."),
			"year_hours": num("The volunteer's hours this year."), "lifetime_hours": num("Lifetime hours."),
			"stars": obj{"type": "integer"}, "stars_before": obj{"type": "integer"}, "tier": tier,
			"offline_evidence": boolean("Evidence over the terminal's own number (offline)."), "replayed": boolean("Stored first result."),
		}},
		"NewActivity": object([]string{"org_id", "title", "starts_at", "ends_at"}, obj{
			"org_id": integer("Organisation."), "title": str("Title."), "site": str("Service site."), "starts_at": dt, "ends_at": dt}),
		"Activity": obj{"type": "object", "properties": obj{"id": integer("Id."), "org_id": integer("Organisation."),
			"title": str("Title."), "site": str("Site."), "starts_at": dt, "ends_at": dt, "created_at": dt}},
		"ActivityPage": object(nil, obj{"items": arrayOf(obj{"type": "object", "description": "Activity fields and these.",
			"allOf": []obj{ref("Activity"), object(nil, obj{"org_name": str("Organisation's name."),
				"check_ins": integer("Check-ins recorded (one per visit)."), "on_site": integer("Checked in, not checked out yet.")})}}),
			"next_cursor": str("Cursor of the next page; absent on the last.")}),
		"AttendanceItem": obj{"type": "object", "properties": obj{"attendance_id": integer("Attendance."), "activity_id": integer("Activity."),
			"title": str("Activity title."), "site": str("Site."), "in_at": dt, "out_at": dt, "minutes": integer("Credited minutes."),
			"hours": num("Credited hours."), "corrected": boolean("Corrected by an admin.")}},
		"ServiceRecord": obj{"type": "object", "properties": obj{"volunteer_id": integer("Volunteer."), "name": str("Name."),
			"years":          arrayOf(object(nil, obj{"year": obj{"type": "integer"}, "minutes": integer("Minutes."), "hours": num("Hours.")})),
			"lifetime_hours": num("Lifetime hours."), "stars": obj{"type": "integer"}, "tier": recordTier,
			"member_expectation_hours": num("Yearly hours expected (league and party members)."),
			"activities":               arrayOf(ref("AttendanceItem"))}},
		"AddHours":   object([]string{"year", "hours", "reason"}, obj{"year": obj{"type": "integer"}, "hours": num("Hours, may be negative."), "reason": str("Why.")}),
		"Correction": object([]string{"in_at", "out_at", "reason"}, obj{"in_at": dt, "out_at": dt, "reason": str("Why.")}),
		"MemberHoursReport": obj{"type": "object", "properties": obj{"org_id": integer("Organisation."), "year": obj{"type": "integer"},
			"expected_hours": num("Expected hours."), "members": obj{"type": "integer"}, "met": obj{"type": "integer"},
			"orgs": arrayOf(object(nil, obj{"org_id": integer("Organisation."), "members": obj{"type": "integer"}, "met": obj{"type": "integer"},
				"below": arrayOf(object(nil, obj{"volunteer_id": integer("Volunteer."), "name": str("Masked name."), "hours": num("Hours.")}))}))}},
		"NewOffer": object([]string{"org_id", "tier", "title"}, obj{"org_id": integer("Organisation."), "tier": tier, "title": str("Title (≤ 100)."),
			"description": str("Details (≤ 500)."), "requires_pin": boolean("Granted only after the holder's offline PIN verified on the card at the merchant's terminal."),
			"valid_from": withDesc(dt, "Offered from (absent: open)."), "valid_until": withDesc(dt, "Offered until, exclusive (absent: open).")}),
		"OfferChange": object(nil, obj{"tier": tier, "title": str("Title (≤ 100)."), "description": str("Details (≤ 500)."),
			"requires_pin": boolean("Offline PIN required."),
			"valid_from":   obj{"type": []string{"string", "null"}, "format": "date-time", "description": "Offered from; null: open."},
			"valid_until":  obj{"type": []string{"string", "null"}, "format": "date-time", "description": "Offered until (exclusive); null: open."}}),
		"Offer": obj{"type": "object", "properties": obj{"id": integer("Id."), "org_id": integer("Organisation."), "tier": tier, "title": str("Title."),
			"description": str("Details."), "requires_pin": boolean("Granted only after the holder's offline PIN verified on the card."),
			"valid_from": withDesc(dt, "Offered from (absent: open)."), "valid_until": withDesc(dt, "Offered until, exclusive (absent: open)."),
			"withdrawn_at": withDesc(dt, "When it was withdrawn (absent: offered)."), "withdraw_reason": str("Why it was withdrawn."),
			"created_at": dt, "updated_at": dt}},
		"OfferList":       object([]string{"items"}, obj{"items": arrayOf(ref("Offer"))}),
		"BlockCard":       object([]string{"pan", "reason"}, obj{"pan": str("Clear PAN; only its token is stored."), "reason": str("Why.")}),
		"UnblockCard":     object([]string{"pan"}, obj{"pan": str("Clear PAN; only its token is used."), "reason": str("Why (optional).")}),
		"BenefitsRequest": object([]string{"challenge_id", "card"}, obj{"challenge_id": str("Server challenge."), "card": ref("CardEvidence")}),
		"Benefits": obj{"type": "object", "properties": obj{"name": str("Masked name (张*明)."), "stars": obj{"type": "integer"}, "tier": tier,
			"offers": arrayOf(ref("Offer")), "check_id": str("Reference of this check, quoted to redeem one of the offers (POST /v1/benefits/redemptions).")}},
	}
}
