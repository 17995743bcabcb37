package api

import "maps"

// OpenAPI entries of the staff console's edits (issue 19): handlers_admin.go.

// addOperation puts op under method in the path item of path, keeping the
// item's other methods (routes of one path may come from several areas).
func addOperation(paths obj, path, method string, op obj) {
	item, _ := paths[path].(obj)
	if item == nil {
		item = obj{}
		paths[path] = item
	}
	item[method] = op
}

// adminOpenAPI adds the organisation, branch, product and audit edits.
// openAPIDocument calls it.
func adminOpenAPI(paths, schemas obj) {
	pa := []string{"province_admin"}
	edit := func(desc string) obj {
		return obj{"200": jsonResponse(desc, ""), "400": problem("Invalid field (validation)."),
			"404": problem("Not found or out of scope (not-found)."),
			"409": problem("A request with the same Idempotency-Key in flight (idempotency-in-flight)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch).")}
	}
	withSchema := func(r obj, schema string) obj {
		r["200"] = jsonResponse(r["200"].(obj)["description"].(string), schema)
		return r
	}
	addOperation(paths, "/v1/volunteers/{id}", "patch", op("updateVolunteer",
		"Edit a volunteer: phone, organisation (province and organisation admins, to one in their scope), a name correction "+
			"with name_reason (the emboss name follows by pinyin unless emboss_name is given). When the name or phone changed and "+
			"the volunteer holds a card at a bank, a holder update (0300 change without ST) to that bank is queued in the same "+
			"transaction (outbox kind holder_update). Audited (volunteer.updated). Bank staff: their bank's holders, phone and name only.",
		[]string{"province_admin", "org_admin", "bank_staff"}, []obj{pathParam("id", "Volunteer id"), idempotencyHeader}, "VolunteerPatch",
		withSchema(edit("The volunteer (masked as for GET)."), "Volunteer")))
	schemas["VolunteerPatch"] = object(nil, obj{
		"phone": str("Mobile phone, 11 digits."), "org_id": integer("New organisation."),
		"name": str("Corrected legal name."), "name_reason": str("Why the name is corrected; required with name."),
		"emboss_name": str("Name on the card, A–Z and spaces, ≤ 26."),
	})
	paths["/v1/applications/{id}/instant-approve"] = obj{"post": op("instantApproveApplication",
		"Instant issuance: bank staff approve a walk-in application they made at their branch (channel branch, made by a token "+
			"of the same branch), where the organisation or an ancestor has the instant_issuance policy, so that the bank's answer "+
			"and personalization follow in the same visit. The event records the bank staff's token, role and channel branch. "+
			"Otherwise 403 naming the rule (no branch token, not a walk-in of this branch, policy off).",
		[]string{"bank_staff"}, []obj{pathParam("id", "Application id"), idempotencyHeader}, "Decision",
		obj{"200": jsonResponse("The approved application.", "Application"), "404": problem("Not found or out of scope (not-found)."),
			"409": problem("Not submitted (illegal-transition), or the same Idempotency-Key in flight."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch).")})}
	addOperation(paths, "/v1/orgs/{id}", "patch", op("updateOrg",
		"Edit an organisation: its responsible person and liaison (name, position, phone; the province admin and the "+
			"organisation's admins), its resident population and year and its league members (the province admin only). "+
			"Absent fields are kept; a contact given replaces the whole contact. Audited (org.updated: which fields changed).",
		reviewRoles, []obj{pathParam("id", "Organisation id"), idempotencyHeader}, "OrgPatch", withSchema(edit("The organisation."), "Org")))
	maps.Copy(paths, obj{
		"/v1/branches": obj{
			"get": op("listBranches", "List bank branches (bank staff: their bank's), with their contacts (phones masked).",
				[]string{"province_admin", "bank_staff"},
				[]obj{queryParam("bank", "Bank code.", obj{"type": "string"}), queryParam("org", "City id.", obj{"type": "integer", "format": "int64"})},
				"", obj{"200": jsonResponse("Branches, by id.", "BranchList"), "400": problem("Bad query (validation).")}),
			"post": op("createBranch", "Create a bank branch serving a city, with its contact. Audited (branch.put).", pa,
				[]obj{idempotencyHeader}, "NewBranch", createResponses("Branch")),
		},
		"/v1/branches/{id}": obj{"patch": op("updateBranch", "Replace a branch's contact (name, position, phone). Audited (branch.put).", pa,
			[]obj{pathParam("id", "Branch id"), idempotencyHeader}, "BranchPatch", withSchema(edit("The branch."), "Branch"))},
		"/v1/products/{code}": obj{"put": op("putProduct",
			"Create or replace a card product: its bank, BIN (the PAN prefix, 6–8 digits, that every card of the product must "+
				"start with), AID, kind and the organisation whose subtree may apply. Audited (product.put).", pa,
			[]obj{{"name": "code", "in": "path", "required": true, "description": "Product code, e.g. GD-RV-BOC.", "schema": obj{"type": "string", "maxLength": 32}},
				idempotencyHeader}, "ProductPut", withSchema(edit("The product."), "Product"))},
		"/v1/admin/audit": obj{"get": op("listAudit",
			"The audit log of staff edits and hotline look-ups, newest first: who (token id, role), when, what, on which object; "+
				"the detail names the fields changed, never personal values.", pa,
			[]obj{queryParam("subject", "Object kind: org, target, branch, product, token, volunteer, application.", obj{"type": "string"}),
				queryParam("subject_id", "Object id (for a product its code).", obj{"type": "string"}),
				queryParam("kind", "Event kind, e.g. org.updated.", obj{"type": "string"}),
				queryParam("cursor", "next_cursor of the previous page.", obj{"type": "string"})},
			"", obj{"200": jsonResponse("Audit events.", "AuditList"), "400": problem("Bad query or cursor (validation).")})},
	})
	contact := ref("Contact")
	maps.Copy(schemas, obj{
		"OrgPatch": object(nil, obj{
			"responsible": contact, "liaison": contact,
			"resident_population": integer("Resident population (province admin)."),
			"population_year":     obj{"type": "integer", "description": "Year of the population figure, 0 when unknown (province admin)."},
			"league_members":      integer("Youth League members (province admin)."),
			"instant_issuance":    boolean("Instant-issuance policy for the subtree (province admin)."),
		}),
		"NewBranch": object([]string{"bank", "org_id", "name"}, obj{
			"bank": str("Bank code."), "org_id": integer("City served."), "name": str("Branch name."), "contact": contact,
		}),
		"BranchPatch": object([]string{"contact"}, obj{"contact": contact}),
		"Branch": obj{"type": "object", "properties": obj{
			"id": integer("Id."), "bank": str("Bank code."), "org_id": integer("City served."), "name": str("Name."), "contact": contact,
		}},
		"BranchList": object(nil, obj{"items": arrayOf(ref("Branch"))}),
		"ProductPut": object([]string{"name", "bank", "bin", "aid", "kind", "org_id"}, obj{
			"name": str("Name."), "bank": str("Bank code."), "bin": str("BIN, 6–8 digits."), "aid": str("AID, 10–32 hex characters."),
			"kind": enum("Card kind.", "debit", "credit"), "org_id": integer("Organisation whose subtree may apply."),
		}),
		"AuditEvent": obj{"type": "object", "properties": obj{
			"id": integer("Id."), "kind": str("What happened, e.g. org.updated, hotline.lookup."), "subject": str("Object kind."),
			"subject_id": str("Object id."), "actor_token_id": integer("Token of the actor (0: the command line)."),
			"actor_role": str("Role of the actor."), "detail": str("Fields changed or the look-up's result; no personal data."),
			"at": obj{"type": "string", "format": "date-time"},
		}},
		"AuditList": object(nil, obj{"items": arrayOf(ref("AuditEvent")), "next_cursor": str("Cursor of the next page.")}),
	})
	schemas["Org"].(obj)["properties"].(obj)["instant_issuance"] = boolean("Instant-issuance policy (set here or on an ancestor: " +
		"bank staff approve their branch's walk-ins).")
	contactProps := schemas["Contact"].(obj)["properties"].(obj)
	contactProps["position"] = str("Position (职务).")
}

// targetsOpenAPI adds the target routes; EnableReports calls it.
func targetsOpenAPI(paths, schemas obj) {
	maps.Copy(paths, obj{"/v1/targets": obj{
		"get": op("listTargets", "The target rules of a year (every year without one).", reviewRoles,
			[]obj{queryParam("year", "Calendar year.", obj{"type": "integer"})}, "",
			obj{"200": jsonResponse("Target rules.", "TargetList"), "400": problem("Bad year (validation).")}),
		"put": op("putTarget",
			"Create or replace the target rule of a year, scope organisation, organisation kind and indicator (any year "+
				"2000–2100). Audited (target.put).", []string{"province_admin"}, []obj{idempotencyHeader}, "TargetRule",
			obj{"200": jsonResponse("The rule, with its id.", "TargetRule"), "400": problem("Invalid field (validation)."),
				"409": problem("A request with the same Idempotency-Key in flight (idempotency-in-flight)."),
				"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch).")}),
	}})
	maps.Copy(schemas, obj{
		"TargetRule": object([]string{"year", "scope_org_id", "indicator", "target_bp"}, obj{
			"id": integer("Id (responses only)."), "year": obj{"type": "integer"},
			"scope_org_id": integer("The rule applies inside this organisation's subtree."),
			"org_kind":     enum("Kind of organisation measured; empty: any.", "", "province", "city", "county", "university"),
			"indicator":    enum("Indicator.", "volunteer_rate", "league_rate", "card_rate", "city_card_rate", "new_card_rate"),
			"target_bp":    integer("Target in basis points (500 = 5 %), 1–10000."), "note": str("Note."),
		}),
		"TargetList": object(nil, obj{"items": arrayOf(ref("TargetRule"))}),
	})
}

// tokensOpenAPI adds the token routes; openAPIDocument calls it.
func tokensOpenAPI(paths, schemas obj) {
	pa := []string{"province_admin"}
	idParam := pathParam("id", "Token id")
	maps.Copy(paths, obj{
		"/v1/admin/tokens": obj{
			"get": op("listTokens", "List API tokens (a terminal is a token of role terminal): never their secrets, only the first "+
				"characters (hint); active ones unless inactive=true.", pa,
				[]obj{queryParam("role", "Role filter.", obj{"type": "string"}),
					queryParam("inactive", "true: include revoked and expired tokens.", obj{"type": "boolean"})},
				"", obj{"200": jsonResponse("Tokens, by id.", "TokenList"), "400": problem("Bad query (validation).")}),
			"post": op("createToken", "Create a token; its secret is in this answer only (Cache-Control: no-store) and only its hash "+
				"is stored. No Idempotency-Key: a retry makes a second token (revoke the spare one). Audited (token.created).", pa,
				nil, "NewToken", obj{"201": jsonResponse("The token, with its secret.", "NewTokenResult"),
					"400": problem("Invalid field (validation): role, scope or an expiry in the past.")}),
		},
		"/v1/admin/tokens/{id}": obj{"patch": op("updateToken", "Rename a token or change its expiry (null removes it; "+
			"a new expiry must be in the future). Audited (token.updated).", pa, []obj{idParam, idempotencyHeader}, "TokenPatch",
			obj{"200": jsonResponse("The token.", "Token"), "404": problem("No such token (not-found)."),
				"409": problem("The token is revoked (conflict), or the same Idempotency-Key in flight."),
				"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch).")})},
		"/v1/admin/tokens/{id}/revoke": obj{"post": op("revokeToken", "Revoke a token: it stops authenticating at once on this "+
			"server, within seconds on the others. Revoking twice is not an error. Audited (token.revoked).", pa,
			[]obj{idParam, idempotencyHeader}, "Decision",
			obj{"200": jsonResponse("The token.", "Token"), "404": problem("No such token (not-found)."),
				"409": problem("The same Idempotency-Key in flight (idempotency-in-flight)."),
				"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch).")})},
	})
	token := obj{
		"id": integer("Id."), "name": str("Label."), "role": str("Role."), "org_id": integer("Organisation (org_admin, terminal, bank branch)."),
		"bank": str("Bank (bank_staff)."), "branch_id": integer("Branch (bank_staff)."), "hint": str("First characters of the secret."),
		"created_at": obj{"type": "string", "format": "date-time"},
		"expires_at": obj{"type": "string", "format": "date-time", "description": "Absent: never expires."},
		"revoked_at": obj{"type": "string", "format": "date-time"},
		"state":      enum("State.", "active", "expired", "revoked"),
	}
	withSecret := maps.Clone(token)
	withSecret["token"] = str("The bearer token, shown this once.")
	maps.Copy(schemas, obj{
		"Token":          obj{"type": "object", "properties": token},
		"NewTokenResult": obj{"type": "object", "properties": withSecret},
		"TokenList":      object(nil, obj{"items": arrayOf(ref("Token"))}),
		"NewToken": object([]string{"role"}, obj{
			"name": str("Label."), "role": enum("Role.", "province_admin", "org_admin", "bank_staff", "terminal", "platform"),
			"org_id": integer("Organisation: required for org_admin and terminal (the province's id for a province-wide terminal)."),
			"bank":   str("Bank code: required for bank_staff."), "branch_id": integer("Branch of the bank (bank_staff, optional)."),
			"expires_at": obj{"type": "string", "format": "date-time", "description": "When it stops working; absent: never."},
		}),
		"TokenPatch": object(nil, obj{"name": str("Label."),
			"expires_at": obj{"type": []string{"string", "null"}, "format": "date-time", "description": "New expiry, or null for none."}}),
	})
}

// hotlineOpenAPI adds the hotline's look-up; openAPIDocument calls it.
func hotlineOpenAPI(paths, schemas obj) {
	paths["/v1/hotline/lookup"] = obj{"get": op("hotlineLookup",
		"The hotline's look-up of a caller's application and card by application number and ID number together: progress "+
			"(masked name, status, steps), bank, channel and each card's state with its last four digits; never the ID number "+
			"or a PAN. Either value wrong is 404, the same answer. Every look-up, found or not, is audited (hotline.lookup: "+
			"token, time, the application number asked, the result); limited per token (429 with Retry-After).",
		[]string{"hotline"},
		[]obj{queryParam("application_number", "Application number.", obj{"type": "string", "maxLength": 40}),
			queryParam("id_number", "The caller's ID number (never logged).", obj{"type": "string", "maxLength": 32})},
		"", obj{"200": jsonResponse("The application and its cards.", "HotlineAnswer"),
			"400": problem("A parameter missing (validation)."), "404": problem("No application with that pair (not-found)."),
			"429": problem("Over the token's look-up limit (rate-limited)."),
			"503": problem("The limit cannot be checked (unavailable).")})}
	schemas["HotlineAnswer"] = obj{"type": "object", "properties": obj{
		"application_number": str("Application number."), "name": str("Masked name."), "product": str("Product code."),
		"status": str("Status."), "next": str("Next step."), "updated_at": obj{"type": "string", "format": "date-time"},
		"steps": obj{"type": "array", "items": obj{"type": "object"}}, "bank": str("Bank code."), "channel": str("Channel."),
		"cards": arrayOf(obj{"type": "object", "properties": obj{
			"last_four": str("Last four digits of the PAN."), "expiry": str("YYMM."), "state": str("Card state."),
			"pending_change": str("A change on its way to the bank."), "replace_seq": integer("Replacement number."),
		}}),
	}}
}
