package api

// insuranceOpenAPI adds the insurance routes and schemas to the OpenAPI
// document. EnableInsurance calls it.
func insuranceOpenAPI(paths, schemas obj) {
	pa := []string{"province_admin"}
	paths["/v1/admin/insurance/policies"] = obj{
		"get": op("listInsurancePolicies", "The insurance policies, oldest first: each covers the holders enrolled while it was "+
			"in force (insurer, policy number, cover in fen, effective dates).", pa, nil, "",
			obj{"200": jsonResponse("The policies.", "InsurancePolicyList")}),
		"post": op("setInsurancePolicy", "Set the policy of the holders enrolled from effective_from (China date, not in the "+
			"past): the current policy ends there; holders already enrolled keep theirs. Audited.", pa,
			[]obj{idempotencyHeader}, "NewInsurancePolicy", obj{
				"201": jsonResponse("Set.", "InsurancePolicy"),
				"409": problem("Policy number used before, or a start on or before the current policy's (conflict)."),
				"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
			}),
	}
	paths["/v1/admin/insurance/files/{date}"] = obj{"get": op("downloadInsuranceFile",
		"The insurer's daily file of a China date: holders whose cover started that day and those whose end was recorded "+
			"that day, with names and ID numbers (docs/insurance-and-rebates.md: UTF-8, | separated, header H, records D, "+
			"trailer Z with counts and SHA-256). Sent with Cache-Control: no-store; each download is audited (insurance.file_downloaded: who, the date, the record count).", pa,
		[]obj{{"name": "date", "in": "path", "required": true, "description": "China date YYYY-MM-DD.",
			"schema": obj{"type": "string", "format": "date"}}}, "",
		obj{"200": obj{"description": "The file.", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}},
			"400": problem("Bad date (validation).")})}
	paths["/v1/orgs/{id}/insurance"] = obj{"get": op("getInsuranceReport",
		"Insurance of an organisation and its subtree: holders insured now and enrolments ended, per organisation.",
		[]string{"province_admin", "org_admin"}, []obj{pathParam("id", "Organisation id")}, "",
		obj{"200": jsonResponse("The report.", "InsuranceReport"), "404": problem("No such organisation, or out of scope (not-found).")})}
	policy := obj{"id": integer("Policy id."), "insurer": str("Insurer."), "policy_number": str("Policy number."),
		"cover_fen":      integer("Cover per holder in fen (10,000,000 = 100,000 CNY)."),
		"effective_from": str("First China date (YYYY-MM-DD) new enrolments take it."),
		"effective_to":   str("First China date they no longer do (absent while current)."), "created_at": str("Set at.")}
	schemas["InsurancePolicy"] = object(nil, policy)
	schemas["InsurancePolicyList"] = object([]string{"items"}, obj{"items": arrayOf(ref("InsurancePolicy"))})
	schemas["NewInsurancePolicy"] = object([]string{"insurer", "policy_number", "cover_fen", "effective_from"}, obj{
		"insurer": str("Insurer, ≤ 100 characters."), "policy_number": str("1–40 of A–Z a–z 0–9 - / ."),
		"cover_fen": integer("Cover per holder in fen, 1 to 1,000,000,000."), "effective_from": str("China date YYYY-MM-DD, today or later.")})
	count := obj{"org_id": integer("Organisation."), "org_name": str("Name."), "org_kind": str("Kind."),
		"insured": integer("Holders insured now."), "ended": integer("Enrolments ended."),
		"cover_fen": integer("Total cover of the holders insured now, fen.")}
	schemas["InsuranceOrgCount"] = object(nil, count)
	schemas["InsuranceReport"] = object([]string{"items"}, obj{"org_id": integer("Organisation."), "org_name": str("Name."),
		"insured": integer("Holders insured now in the subtree."), "ended": integer("Enrolments ended in the subtree."),
		"items": arrayOf(ref("InsuranceOrgCount"))})
}
