package api

// rebatesOpenAPI adds the donation-rebate routes and schemas to the
// OpenAPI document. EnableRebates calls it.
func rebatesOpenAPI(paths, schemas obj) {
	readers := []string{"province_admin", "org_admin"}
	monthQ := queryParam("month", "The month, YYYY-MM (China time).", obj{"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})
	monthQ["required"] = true
	paths["/v1/admin/rebates/rates"] = obj{
		"get": op("listRebateRates", "Rebate rates by bank, product and start: rate_bp of the net spending is donated, "+
			"the foundation keeps foundation_bp of the donation and returns the rest. Bank staff read their bank's.",
			[]string{"province_admin", "bank_staff"},
			[]obj{queryParam("bank", "Only this bank's (bank staff: their own; another is 403).", obj{"type": "string"}),
				queryParam("product", "Only this product's.", obj{"type": "string"})}, "",
			obj{"200": jsonResponse("The rates.", "RebateRateList"), "400": problem("Bad query parameter (validation).")}),
		"post": op("setRebateRate", "Add a rate of a bank's product from effective_from (to effective_to, exclusive, or "+
			"open-ended). The open-ended rate that starts before it ends there; any other overlap, or a start inside a month "+
			"whose statements exist, is 409.", []string{"province_admin"}, []obj{idempotencyHeader}, "NewRebateRate", obj{
			"201": jsonResponse("Added.", "RebateRate"),
			"409": problem("Overlaps another rate, or falls in a generated month (conflict)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		}),
	}
	paths["/v1/admin/rebates/statements"] = obj{"post": op("generateRebateStatements",
		"Generate the statements of an ended month from the spending advices (201), or return those generated before (200): "+
			"a month's statements never change.", []string{"province_admin"}, []obj{idempotencyHeader}, "GenerateRebateStatements",
		obj{"201": jsonResponse("Generated now.", "RebateMonth"), "200": jsonResponse("Generated before.", "RebateMonth"),
			"409": problem("Advices need a rate that is not set (conflict; the detail names bank, product and day)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch).")})}
	paths["/v1/rebates/statements"] = obj{"get": op("listRebateStatements",
		"A generated month's statements: all for the province admin, the cities and universities of their subtree for an "+
			"org admin.", readers, []obj{monthQ}, "",
		obj{"200": jsonResponse("The month.", "RebateMonth"), "400": problem("Bad month (validation)."),
			"404": problem("The month is not generated (not-found).")})}
	paths["/v1/rebates/statements/export"] = obj{"get": op("exportRebateStatements",
		"The month's statements the caller reads as CSV (UTF-8 with BOM) or XLSX: a row per line, then a TOTAL row per "+
			"statement; money in fen.", readers,
		[]obj{monthQ, queryParam("format", "csv (default) or xlsx.", enum("", "csv", "xlsx"))}, "",
		obj{"200": obj{"description": "The file (columns: month, org_id, org_name, org_kind, bank_code, product_code, rate_bp, " +
			"foundation_bp, advices, spending_fen, refund_fen, reversal_fen, net_fen, donation_fen, foundation_fen, returned_fen).",
			"content": obj{MediaCSV: obj{"schema": obj{"type": "string"}}, MediaXLSX: obj{"schema": obj{"type": "string", "format": "binary"}}}},
			"400": problem("Bad month or format (validation)."), "404": problem("The month is not generated (not-found).")})}
	paths["/v1/rebates/statements/{id}"] = obj{"get": op("getRebateStatement", "One statement with its lines.", readers,
		[]obj{pathParam("id", "Statement id")}, "",
		obj{"200": jsonResponse("The statement.", "RebateStatement"), "404": problem("No such statement, or out of scope (not-found).")})}

	rate := obj{"id": integer("Rate id."), "bank_code": str("Bank."), "product_code": str("Product."),
		"rate_bp":        integer("Basis points of the net spending donated."),
		"foundation_bp":  integer("Basis points of the donation the foundation keeps."),
		"effective_from": str("First China date (YYYY-MM-DD)."), "effective_to": str("First China date no longer covered (absent: open-ended)."),
		"created_at": str("Set at.")}
	schemas["RebateRate"] = object(nil, rate)
	schemas["RebateRateList"] = object([]string{"items"}, obj{"items": arrayOf(ref("RebateRate"))})
	schemas["NewRebateRate"] = object([]string{"bank_code", "product_code", "rate_bp", "foundation_bp", "effective_from"}, obj{
		"bank_code": str("Bank."), "product_code": str("A product of that bank."), "rate_bp": integer("0–10000."),
		"foundation_bp": integer("0–10000."), "effective_from": str("YYYY-MM-DD."), "effective_to": str("YYYY-MM-DD, after effective_from; omit for open-ended.")})
	schemas["GenerateRebateStatements"] = object([]string{"month"}, obj{"month": str("YYYY-MM, ended (China time) at least 15 minutes ago.")})
	money := obj{"advices": integer("Advices."), "spending_fen": integer("Spending."), "refund_fen": integer("Refunds."),
		"reversal_fen": integer("Reversals."), "net_fen": integer("spending − refunds − reversals."),
		"donation_fen":   integer("round(net × rate_bp / 10000), halves away from zero (per line; totals are sums)."),
		"foundation_fen": integer("round(donation × foundation_bp / 10000)."), "returned_fen": integer("donation − foundation.")}
	schemas["RebateAmounts"] = object(nil, money)
	line := obj{"bank_code": str("Bank."), "product_code": str("Product."), "rate_id": integer("Rate applied."),
		"rate_bp": integer("Its rate."), "foundation_bp": integer("Its foundation share.")}
	for k, v := range money {
		line[k] = v
	}
	schemas["RebateLine"] = object(nil, line)
	schemas["RebateStatement"] = object([]string{"lines"}, obj{"id": integer("Statement id."), "month": str("YYYY-MM."),
		"org_id": integer("City or university."), "org_name": str("Name."), "org_kind": str("city or university."),
		"generated_at": str("Generated at."), "totals": ref("RebateAmounts"), "lines": arrayOf(ref("RebateLine"))})
	schemas["RebateMonth"] = object([]string{"items"}, obj{"month": str("YYYY-MM."),
		"advices": integer("Every advice of the month."), "net_fen": integer("Net of all statements."),
		"statements":   integer("Statements of the month (all, not only those listed)."),
		"unattributed": integer("Advices in no statement: cards not ours, or holders outside any city or university."),
		"generated_at": str("Generated at."), "generated": obj{"type": "boolean", "description": "Generated by this request."},
		"items": arrayOf(ref("RebateStatement"))})
}
