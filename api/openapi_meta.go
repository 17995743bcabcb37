package api

import "maps"

// metaOpenAPI adds the server's own routes (liveness, readiness, metrics,
// this document) to the OpenAPI document. openAPIDocument calls it.
func metaOpenAPI(paths, schemas obj) {
	maps.Copy(paths, obj{
		"/healthz": obj{"get": op("healthz", "Liveness: the process is up.", nil, nil, "", obj{
			"200": jsonResponse("Up.", "StatusBody")})},
		"/readyz": obj{"get": op("readyz", "Readiness: the database is reachable.", nil, nil, "", obj{
			"200": jsonResponse("Ready.", "StatusBody"), "503": problem("Database unreachable (unavailable).")})},
		"/metrics": obj{"get": op("metrics", "Prometheus metrics (text exposition format).", nil, nil, "", obj{
			"200": obj{"description": "Metrics.", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}})},
		"/v1/openapi.json": obj{"get": op("openapi", "This document.", nil, nil, "", obj{
			"200": obj{"description": "OpenAPI 3.1 document.", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}})},
	})
	maps.Copy(schemas, obj{
		"StatusBody": object(nil, obj{"status": str("ok or ready.")}),
	})
}
