package api

import "maps"

// orgsOpenAPI adds the organisation and product routes and schemas to the
// OpenAPI document. openAPIDocument calls it.
func orgsOpenAPI(paths, schemas obj) {
	idParam := func(what string) obj { return pathParam("id", what+" id") }
	contact := object(nil, obj{"name": str("Name."), "phone": str("Mobile phone; masked in responses.")})
	maps.Copy(paths, obj{
		"/v1/orgs": obj{
			"post": op("createOrg", "Create an organisation under a parent in the caller's scope.", reviewRoles,
				[]obj{idempotencyHeader}, "NewOrg", createResponses("Org")),
			"get": op("listOrgs", "List the organisations directly under a parent (the roots without one) that lie in the caller's scope.", allRoles,
				[]obj{queryParam("parent", "Parent organisation id; absent: the roots.", obj{"type": "integer", "format": "int64"})}, "",
				obj{"200": jsonResponse("Organisations, by region code.", "OrgList"), "400": problem("Bad parent (validation).")}),
		},
		"/v1/orgs/{id}": obj{"get": op("getOrg", "Get an organisation.", allRoles, []obj{idParam("Organisation")}, "",
			obj{"200": jsonResponse("The organisation.", "Org"), "404": problem("Not found or out of scope (not-found).")})},
		"/v1/products": obj{"get": op("listProducts", "List card products.", allRoles, nil, "",
			obj{"200": jsonResponse("Products.", "ProductList")})},
	})
	maps.Copy(schemas, obj{
		"Contact": contact,
		"NewOrg": object([]string{"kind", "name"}, obj{
			"parent_id": integer("Parent organisation; absent only for the province."),
			"kind":      enum("Level.", "province", "city", "county", "university", "unit"),
			"name":      str("Name."), "region_code": str("GB/T 2260 code, six digits (province, city, county)."),
			"resident_population": integer("Resident population."), "population_year": obj{"type": "integer"},
			"league_members": integer("Youth League members."), "responsible": ref("Contact"), "liaison": ref("Contact"),
		}),
		"Org": obj{"type": "object", "properties": obj{
			"id": integer("Id."), "parent_id": integer("Parent id, 0 for the root."), "kind": str("Level."), "name": str("Name."),
			"region_code": str("GB/T 2260 code."), "path": str("Materialised path of ids."),
			"resident_population": integer("People."), "population_year": obj{"type": "integer"}, "league_members": integer("Members."),
			"responsible": ref("Contact"), "liaison": ref("Contact"), "created_at": obj{"type": "string", "format": "date-time"},
		}},
		"Product": obj{"type": "object", "properties": obj{
			"code": str("Product code."), "name": str("Name."), "bank": str("Bank code."), "bin": str("BIN."), "aid": str("AID, hex."),
			"kind": enum("Card kind.", "debit", "credit"), "org_id": integer("Organisation whose subtree may apply."),
		}},
		"ProductList": object(nil, obj{"items": arrayOf(ref("Product"))}),
		"OrgList":     object(nil, obj{"items": arrayOf(ref("Org"))}),
	})
}
