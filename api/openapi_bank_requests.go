package api

// bankRequestsOpenAPI adds the outbox admin routes and schemas to the OpenAPI
// document. EnableBankRequests calls it.
func bankRequestsOpenAPI(paths, schemas obj) {
	admin := []string{"province_admin"}
	idParam := pathParam("id", "Outbox row id")
	action := func(id, summary string) obj {
		return op(id, summary, admin, []obj{idParam, idempotencyHeader}, "BankRequestAction", obj{
			"200": jsonResponse("The row after the change.", "BankRequest"),
			"404": problem("No such row (not-found)."),
			"409": problem("The row is not failed: only failed rows can be retried or cancelled (conflict)."),
		})
	}
	paths["/v1/admin/bank-requests"] = obj{"get": op("listBankRequests",
		"Bank outbox rows, newest first (same as `volcard outbox list`). Only the application number and the card's last four "+
			"digits are shown.", admin,
		[]obj{queryParam("state", "Only rows in this state.", enum("", bankRequestStates...)),
			queryParam("kind", "Only rows of this kind.", enum("", bankRequestKinds...)),
			queryParam("bank", "Only rows of applications for this bank code (BOC, CEB, CCB, PSBC).", obj{"type": "string"}),
			queryParam("limit", "At most this many rows (default 100).", obj{"type": "integer", "minimum": 1, "maximum": 1000}),
			queryParam("cursor", "The next_cursor of the previous page (opaque; a malformed one is 400).", obj{"type": "string"})},
		"", obj{"200": jsonResponse("The rows.", "BankRequestList"), "400": problem("Bad query parameter (validation).")})}
	paths["/v1/admin/bank-requests/{id}/retry"] = obj{"post": action("retryBankRequest",
		"Send a failed row again as a new request (new STAN; the bank deduplicates). Same as `volcard outbox retry`.")}
	paths["/v1/admin/bank-requests/{id}/cancel"] = obj{"post": action("cancelBankRequest",
		"Give a failed row up for good, with a reason (required). A status change's pending change is dropped; a reversal's "+
			"add is sent afresh; an add leaves its application in bank_pending. Same as `volcard outbox cancel`.")}
	schemas["BankRequestAction"] = object(nil, obj{"reason": str("Why (required for cancel; at most 200 characters).")})
	schemas["BankRequest"] = object(nil, obj{
		"id": integer("Row id."), "kind": str("apply, reversal or status_change."),
		"state":          str("pending, in_flight, sent, waiting, done, failed or cancelled."),
		"application_id": integer("Application."), "application_number": str("Application number (field 48 AN)."),
		"card_last_four": str("Last four digits of the application's current card, if any."),
		"parent_id":      integer("For a reversal: the add it reverses."),
		"attempts":       integer("Claims by a worker."), "repeats": integer("Sends without an answer in a row."),
		"stan": str("Field 11 of the current trace."), "rrn": str("Field 37 of the current trace."),
		"result_code": str("The bank's last final response code."), "last_error": str("Last error or operator note (no personal data)."),
		"next_attempt_at": str("When a pending or sent row is due."), "created_at": str("Created."), "updated_at": str("Updated."),
	})
	schemas["BankRequestList"] = object([]string{"items"}, obj{"items": arrayOf(ref("BankRequest")),
		"next_cursor": str("The cursor= value of the next page, when there may be one.")})
}
