package api

// reconciliationsOpenAPI adds the reconciliation routes and schemas to the
// OpenAPI document. EnableReconciliations calls it.
func reconciliationsOpenAPI(paths, schemas obj) {
	roles := []string{"province_admin", "bank_staff"}
	idParam := pathParam("id", "Reconciliation report id")
	paths["/v1/admin/reconciliations"] = obj{"get": op("listReconciliations",
		"Reconciliation reports, newest business date first: each compares one bank's settlement file of a business "+
			"date with volcard's cards of that bank (`volcard reconcile`, serve's reconcile-banks job). Bank staff see "+
			"their bank's only.", roles,
		[]obj{queryParam("bank", "Only this bank's reports (bank staff: their own bank only; another is 403).", obj{"type": "string"}),
			queryParam("limit", "At most this many (default 50).", obj{"type": "integer", "minimum": 1, "maximum": 500})},
		"", obj{"200": jsonResponse("The reports.", "ReconciliationList"), "400": problem("Bad query parameter (validation)."),
			"403": problem("Another bank's reports (forbidden).")})}
	paths["/v1/admin/reconciliations/{id}"] = obj{"get": op("getReconciliation",
		"A reconciliation report with its differences (the first 1,000; the download has all). Differences are "+
			"reported, never acted on.", roles, []obj{idParam}, "",
		obj{"200": jsonResponse("The report.", "ReconciliationDetail"),
			"404": problem("No such report, or another bank's (not-found).")})}
	paths["/v1/admin/reconciliations/{id}/differences"] = obj{"get": op("downloadReconciliation",
		"All differences of a report as CSV (UTF-8 with BOM) or XLSX (a differences sheet and a summary sheet).", roles,
		[]obj{idParam, queryParam("format", "csv (default) or xlsx.", enum("", "csv", "xlsx"))}, "",
		obj{"200": obj{"description": "The file (columns: kind, application_number, replace_seq, last_four, volcard_state, " +
			"bank_state, application_status, bank_activated, bank_line, detail).",
			"content": obj{MediaCSV: obj{"schema": obj{"type": "string"}}, MediaXLSX: obj{"schema": obj{"type": "string", "format": "binary"}}}},
			"400": problem("Bad format (validation)."), "404": problem("No such report, or another bank's (not-found).")})}
	report := obj{
		"id": integer("Report id."), "bank_code": str("Bank."), "business_date": str("Business date reconciled (YYYY-MM-DD)."),
		"source": str("The settlement file (BANK/DATE.csv)."), "bank_cards": integer("Cards the bank listed."),
		"volcard_cards": integer("volcard's cards of the bank that existed by the end of the business date (UTC+8)."),
		"matched":       integer("Cards that agree on every point."), "differences": integer("Differences found."),
		"by_kind": obj{"type": "object", "additionalProperties": obj{"type": "integer"},
			"description": "Differences by kind: state_differs, pan_differs, product_differs, card_unknown_to_volcard, " +
				"card_unknown_to_bank, application_unknown, duplicate_row."},
		"started_at": str("Started."), "finished_at": str("Finished."),
	}
	schemas["Reconciliation"] = object(nil, report)
	schemas["ReconciliationList"] = object([]string{"items"}, obj{"items": arrayOf(ref("Reconciliation"))})
	schemas["ReconciliationDifference"] = object(nil, obj{
		"kind": str("Kind of difference (see by_kind)."), "application_number": str("Application number."),
		"replace_seq":   integer("0 for the first card, 1 for its first replacement ..."),
		"last_four":     str("Last four digits of the PAN (volcard's when it knows the card)."),
		"volcard_state": str("volcard's card state."), "bank_state": str("The bank's card state."),
		"application_status": str("volcard's application status."), "bank_activated": str("The bank's activation date."),
		"bank_line": integer("Line of the bank's file."), "detail": str("What differs, in a sentence (no personal data)."),
	})
	detail := obj{}
	for k, v := range report {
		detail[k] = v
	}
	detail["items"] = arrayOf(ref("ReconciliationDifference"))
	detail["truncated"] = obj{"type": "boolean", "description": "More than 1,000 differences: download them all."}
	schemas["ReconciliationDetail"] = object([]string{"items"}, detail)
}
