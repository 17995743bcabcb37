package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/volcard/volcard/wire"
)

// The OpenAPI 3.1 document is built in Go from the small helpers below.
// Each area's paths and schemas are its fragment, <area>OpenAPI(paths,
// schemas obj) in openapi_<area>.go; this file holds the helpers, the
// Problem schema every route answers with, and the assembly. Every route
// registered must appear in the document; TestOpenAPICoversRoutes enforces
// that.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str(desc string) obj { return obj{"type": "string", "description": desc} }

func integer(desc string) obj { return obj{"type": "integer", "format": "int64", "description": desc} }

func boolean(desc string) obj { return obj{"type": "boolean", "description": desc} }

func enum(desc string, values ...string) obj {
	return obj{"type": "string", "enum": values, "description": desc}
}

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }

func jsonBody(schema string) obj {
	return obj{"required": true, "content": obj{"application/json": obj{"schema": ref(schema)}}}
}

func jsonResponse(desc, schema string) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref(schema)}}}
}

func problem(desc string) obj {
	return obj{"description": desc, "content": obj{wire.ProblemContentType: obj{"schema": ref("Problem")}}}
}

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "integer", "format": "int64"}}
}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "description": desc, "schema": schema}
}

var idempotencyHeader = obj{
	"name": headerIdempotencyKey, "in": "header", "required": false,
	"description": "Stripe-style idempotency key (≤ 255 visible ASCII characters, kept 24 h, scoped to the token). " +
		"A retry with the same key and body gets the first response again with `Idempotent-Replayed: true`; " +
		"the same key with another body is 422 (idempotency-mismatch); a retry while the first is running is 409 (idempotency-in-flight).",
	"schema": obj{"type": "string", "maxLength": maxIdempotencyKeyLen},
}

// op builds an operation. Authenticated operations list the roles allowed.
func op(id, summary string, roles []string, params []obj, body string, responses obj) obj {
	o := obj{"operationId": id, "summary": summary, "responses": responses}
	if len(roles) > 0 {
		o["security"] = []obj{{"bearer": []string{}}}
		o["x-roles"] = roles
		o["description"] = "Roles: " + strings.Join(roles, ", ") + ". Rows outside the caller's scope are 404."
		responses["401"] = problem("Missing, unknown or revoked token (unauthorized).")
		responses["403"] = problem("The caller's role may not use this route (forbidden).")
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if body != "" {
		o["requestBody"] = jsonBody(body)
		responses["400"] = problem("Malformed JSON, unknown field, wrong type or invalid value (malformed-json, validation).")
		responses["413"] = problem("Body over the size limit (payload-too-large).")
		responses["415"] = problem("Content-Type is not application/json (unsupported-media-type).")
	}
	return o
}

var (
	allRoles    = []string{"province_admin", "org_admin", "bank_staff", "terminal", "platform"}
	readRoles   = []string{"province_admin", "org_admin", "bank_staff", "platform"}
	reviewRoles = []string{"province_admin", "org_admin"}
	createRoles = []string{"province_admin", "org_admin", "bank_staff", "platform"}
)

// createResponses are the answers of a route that creates an object.
func createResponses(schema string) obj {
	return obj{
		"201": jsonResponse("Created.", schema),
		"404": problem("A referenced object does not exist or is outside the caller's scope (not-found)."),
		"409": problem("Duplicate or conflicting data (conflict), or a request with the same Idempotency-Key in flight (idempotency-in-flight)."),
		"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
	}
}

// openAPIDocument builds the document of the routes every Server serves:
// each area adds its paths and schemas (openapi_<area>.go); the routes
// that EnableOnsite, EnableReports, EnableCheckin, EnablePersonalization,
// EnableBankRequests and EnableBankLinks register add theirs later with
// extendOpenAPI.
func openAPIDocument() obj {
	paths, schemas := obj{}, obj{
		"Problem": obj{"type": "object", "description": "RFC 9457 problem details.", "required": []string{"type", "title", "status"},
			"properties": obj{
				"type": obj{"type": "string", "format": "uri", "description": "Stable URI, " + wire.ProblemBase + "{validation,malformed-json,payload-too-large," +
					"unsupported-media-type,unauthorized,forbidden,not-found,method-not-allowed,conflict,illegal-transition," +
					"idempotency-mismatch,idempotency-in-flight,rate-limited,unavailable,internal}."},
				"title": str("Summary of the problem type."), "status": obj{"type": "integer"},
				"detail": str("What went wrong with this request."), "instance": str("Request path."),
				"request_id": str("X-Request-ID of the request."),
				"errors":     arrayOf(object([]string{"field", "message"}, obj{"field": str("Field."), "message": str("Why it is invalid.")})),
			}},
	}
	for _, add := range []func(paths, schemas obj){
		metaOpenAPI, orgsOpenAPI, volunteersOpenAPI, applicationsOpenAPI, cardsOpenAPI, consoleOpenAPI, adminOpenAPI, tokensOpenAPI, hotlineOpenAPI,
	} {
		add(paths, schemas)
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "volcard API", "version": "1.0.0",
			"description": "Volunteer chip-card issuance: organisations, volunteers, card applications and their workflow. " +
				"Errors are application/problem+json (RFC 9457). Requests carry `Authorization: Bearer <token>` except the public routes."},
		"servers":    []obj{{"url": "/"}},
		"paths":      paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
	}
}

// openAPIJSON returns the document, indented.
func openAPIJSON() ([]byte, error) {
	return json.MarshalIndent(openAPIDocument(), "", "  ")
}

// extendOpenAPI lets add put the paths and schemas of routes registered
// after New (the Enable<Area> methods) into the served OpenAPI document.
func (s *Server) extendOpenAPI(add func(paths, schemas obj)) error {
	var doc obj
	if err := json.Unmarshal(s.openapi, &doc); err != nil {
		return fmt.Errorf("api: openapi document: %w", err)
	}
	paths, _ := doc["paths"].(obj)
	comps, _ := doc["components"].(obj)
	schemas, _ := comps["schemas"].(obj)
	if paths == nil || schemas == nil {
		return errors.New("api: openapi document without paths or schemas")
	}
	add(paths, schemas)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("api: openapi document: %w", err)
	}
	s.openapi = b
	return nil
}
