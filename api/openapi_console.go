package api

import "slices"

// consoleOpenAPI adds the staff web console's routes (the page and its
// assets) to the OpenAPI document. openAPIDocument calls it.
func consoleOpenAPI(paths, schemas obj) {
	html := obj{"200": obj{"description": "HTML page.", "content": obj{"text/html": obj{"schema": obj{"type": "string"}}}}}
	asset := obj{"200": obj{"description": "Static asset (JavaScript, CSS).", "content": obj{"*/*": obj{"schema": obj{"type": "string"}}}},
		"404": obj{"description": "No such asset."}}
	paths["/"] = obj{"get": op("console", "Staff web console (HTML, assets embedded; sign in with a token).", nil, nil, "", html)}
	paths["/console/{file}"] = obj{"get": op("consoleAsset", "Web console asset.", nil,
		[]obj{{"name": "file", "in": "path", "required": true, "schema": obj{"type": "string"}}}, "", asset)}
	paths["/v1/me"] = obj{"get": op("getMe", "The caller as its token says: role, organisation, bank and branch (the console picks its pages by role).",
		append(slices.Clone(allRoles), "hotline"), nil, "", obj{"200": jsonResponse("The caller.", "Me")})}
	schemas["Me"] = object([]string{"token_id", "role"}, obj{
		"token_id": integer("The token's id."), "role": enum("Role.", "province_admin", "org_admin", "bank_staff", "terminal", "platform", "hotline"),
		"org_id": integer("The organisation the token is bound to (org_admin, terminal)."), "org_name": str("Its name."),
		"bank": str("Bank code (bank_staff)."), "branch_id": integer("Branch (bank_staff of one branch)."),
	})
}
