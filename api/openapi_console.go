package api

// consoleOpenAPI adds the staff web console's routes (the page and its
// assets) to the OpenAPI document. openAPIDocument calls it.
func consoleOpenAPI(paths, _ obj) {
	html := obj{"200": obj{"description": "HTML page.", "content": obj{"text/html": obj{"schema": obj{"type": "string"}}}}}
	asset := obj{"200": obj{"description": "Static asset (JavaScript, CSS).", "content": obj{"*/*": obj{"schema": obj{"type": "string"}}}},
		"404": obj{"description": "No such asset."}}
	paths["/"] = obj{"get": op("console", "Staff web console (HTML, assets embedded; sign in with a token).", nil, nil, "", html)}
	paths["/console/{file}"] = obj{"get": op("consoleAsset", "Web console asset.", nil,
		[]obj{{"name": "file", "in": "path", "required": true, "schema": obj{"type": "string"}}}, "", asset)}
}
