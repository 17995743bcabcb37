package api

import "maps"

// volunteersOpenAPI adds the volunteer routes and schemas to the OpenAPI
// document. openAPIDocument calls it.
func volunteersOpenAPI(paths, schemas obj) {
	idParam := func(what string) obj { return pathParam("id", what+" id") }
	maps.Copy(paths, obj{
		"/v1/volunteers": obj{
			"post": op("createVolunteer", "Register a volunteer.", createRoles, []obj{idempotencyHeader}, "NewVolunteer",
				createResponses("Volunteer")),
			"get": op("findVolunteer", "Find a volunteer by ID number (blind-index lookup).", allRoles,
				[]obj{{"name": "id_number", "in": "query", "required": true, "schema": obj{"type": "string"}, "description": "Never logged."}}, "",
				obj{"200": jsonResponse("The volunteer.", "Volunteer"), "400": problem("Missing id_number (validation)."),
					"404": problem("No such volunteer in scope (not-found).")}),
		},
		"/v1/volunteers/{id}": obj{"get": op("getVolunteer", "Get a volunteer.", allRoles, []obj{idParam("Volunteer")}, "",
			obj{"200": jsonResponse("The volunteer.", "Volunteer"), "404": problem("Not found or out of scope (not-found).")})},
	})
	maps.Copy(schemas, obj{
		"NewVolunteer": object([]string{"name", "id_number", "phone", "org_id", "clothing_size"}, obj{
			"name": str("Legal name (UTF-8)."), "id_type": enum("Identity document type; default resident_id.", "resident_id", "passport", "hk_macau_permit", "taiwan_permit"),
			"id_number": str("Resident ID (GB 11643-1999) or document number."), "phone": str("Mobile phone."),
			"birth_date": obj{"type": "string", "format": "date", "description": "Birth date YYYY-MM-DD: required for passport and permit holders (the bank needs it); for a resident ID it comes from the number and, when given, must agree with it. A real date, not in the future, 1900 or later; the minimum age applies when applying for a card."},
			"org_id":     integer("Organisation."), "league_member": boolean("Youth League member."), "party_member": boolean("Party member."),
			"clothing_size":    enum("Clothing size.", "XS", "S", "M", "L", "XL", "XXL", "XXXL"),
			"emboss_name":      str("Pinyin, A–Z and space, ≤ 26; derived from name when absent."),
			"source":           enum("Registration channel; default from the caller's role (console for league-committee staff, branch for bank staff, platform for the platform); only the platform may register source platform.", "platform", "online", "branch", "on_site", "console"),
			"volunteer_number": str("Number on the volunteer platform."),
		}),
		"Volunteer": obj{"type": "object", "description": "id_number and phone are masked (1101**********002X, 138****5678) unless the role may see them.",
			"properties": obj{
				"id": integer("Id."), "org_id": integer("Organisation."), "name": str("Legal name."), "emboss_name": str("Emboss name."),
				"id_type": str("Document type."), "id_number": str("ID number, masked unless allowed."), "id_number_masked": boolean("Whether id_number and phone are masked."),
				"gender": str("male, female or empty."), "birth_date": obj{"type": "string", "format": "date", "description": "Birth date, shown only to roles that see the ID number in full."}, "phone": str("Phone, masked unless allowed."),
				"league_member": obj{"type": "boolean"}, "party_member": obj{"type": "boolean"}, "clothing_size": str("Size."),
				"source": str("Channel."), "volunteer_number": str("Platform number."), "created_at": obj{"type": "string", "format": "date-time"},
			}},
	})
}
