package api

import (
	"encoding/json"
	"maps"
	"strings"

	"github.com/volcard/volcard/wire"
)

// The OpenAPI 3.1 document is built here in Go from small helpers. Every
// route registered in routes() must appear in it; TestOpenAPICoversRoutes
// enforces that.

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

func openAPIDocument() obj {
	idParam := func(what string) obj { return pathParam("id", what+" id") }
	createResponses := func(schema string) obj {
		return obj{
			"201": jsonResponse("Created.", schema),
			"404": problem("A referenced object does not exist or is outside the caller's scope (not-found)."),
			"409": problem("Duplicate or conflicting data (conflict), or a request with the same Idempotency-Key in flight (idempotency-in-flight)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		}
	}
	transition := func(id, summary, body string) obj {
		return obj{"post": op(id, summary, reviewRoles, []obj{idParam("Application"), idempotencyHeader}, body, obj{
			"200": jsonResponse("The application after the step.", "Application"),
			"404": problem("No such application in scope (not-found)."),
			"409": problem("The step is not allowed from the current status (illegal-transition)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	}
	contact := object(nil, obj{"name": str("Name."), "phone": str("Mobile phone; masked in responses.")})
	paths := obj{
		"/healthz": obj{"get": op("healthz", "Liveness: the process is up.", nil, nil, "", obj{
			"200": jsonResponse("Up.", "StatusBody")})},
		"/readyz": obj{"get": op("readyz", "Readiness: the database is reachable.", nil, nil, "", obj{
			"200": jsonResponse("Ready.", "StatusBody"), "503": problem("Database unreachable (unavailable).")})},
		"/metrics": obj{"get": op("metrics", "Prometheus metrics (text exposition format).", nil, nil, "", obj{
			"200": obj{"description": "Metrics.", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}})},
		"/v1/openapi.json": obj{"get": op("openapi", "This document.", nil, nil, "", obj{
			"200": obj{"description": "OpenAPI 3.1 document.", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}})},
		"/v1/progress": obj{"get": op("getProgress", "Public progress lookup by application number and ID number; rate limited per client IP.", nil,
			[]obj{
				obj{"name": "application_number", "in": "query", "required": true, "schema": obj{"type": "string"}},
				obj{"name": "id_number", "in": "query", "required": true, "schema": obj{"type": "string"}, "description": "The applicant's ID number; never logged."},
			}, "", obj{
				"200": jsonResponse("Progress with the masked name only.", "Progress"),
				"400": problem("Missing parameter (validation)."),
				"404": problem("No application with this number and ID number (not-found)."),
				"429": problem("Too many lookups from this address (rate-limited); see Retry-After."),
			})},
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
		"/v1/applications": obj{
			"post": op("createApplication", "Apply for a card.", createRoles, []obj{idempotencyHeader}, "NewApplication",
				createResponses("Application")),
			"get": op("listApplications", "List applications in scope, newest first, with cursor pagination.", readRoles,
				[]obj{
					queryParam("status", "Filter by status.", ref("Status")),
					queryParam("org", "Applications in this organisation's subtree.", obj{"type": "integer", "format": "int64"}),
					queryParam("product", "Filter by product code.", obj{"type": "string"}),
					queryParam("channel", "Filter by channel.", ref("Channel")),
					queryParam("limit", "Page size, 1–200, default 50.", obj{"type": "integer"}),
					queryParam("cursor", "next_cursor of the previous page.", obj{"type": "string"}),
				}, "",
				obj{"200": jsonResponse("One page.", "ApplicationPage"), "400": problem("Bad filter or cursor (validation).")}),
		},
		"/v1/applications/{id}": obj{"get": op("getApplication", "Get an application.", readRoles, []obj{idParam("Application")}, "",
			obj{"200": jsonResponse("The application.", "Application"), "404": problem("Not found or out of scope (not-found).")})},
		"/v1/applications/{id}/approve": transition("approveApplication", "Approve a submitted application (staff review).", "Decision"),
		"/v1/applications/{id}/reject":  transition("rejectApplication", "Reject a submitted application; reason required.", "Rejection"),
		"/v1/applications/{id}/cancel": obj{"post": op("cancelApplication", "Cancel an application before it reaches the bank.", createRoles,
			[]obj{idParam("Application"), idempotencyHeader}, "Decision", obj{
				"200": jsonResponse("The application after the step.", "Application"),
				"404": problem("No such application in scope (not-found)."),
				"409": problem("Too late to cancel (illegal-transition)."),
				"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
			})},
		"/v1/applications/{id}/events": obj{"get": op("listEvents", "The application's status changes, oldest first.", readRoles,
			[]obj{idParam("Application")}, "",
			obj{"200": jsonResponse("Events.", "EventList"), "404": problem("Not found or out of scope (not-found).")})},
	}
	statuses := []string{"submitted", "approved", "rejected", "bank_pending", "bank_approved", "bank_declined", "personalized", "issued", "activated", "cancelled"}
	schemas := obj{
		"Status":  enum("Application status.", statuses...),
		"Channel": enum("Channel.", "platform", "online", "branch", "on_site", "console", "system"),
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
		"NewVolunteer": object([]string{"name", "id_number", "phone", "org_id", "clothing_size"}, obj{
			"name": str("Legal name (UTF-8)."), "id_type": enum("Identity document type; default resident_id.", "resident_id", "passport", "hk_macau_permit", "taiwan_permit"),
			"id_number": str("Resident ID (GB 11643-1999) or document number."), "phone": str("Mobile phone."),
			"org_id": integer("Organisation."), "league_member": boolean("Youth League member."), "party_member": boolean("Party member."),
			"clothing_size":    enum("Clothing size.", "XS", "S", "M", "L", "XL", "XXL", "XXXL"),
			"emboss_name":      str("Pinyin, A–Z and space, ≤ 26; derived from name when absent."),
			"source":           enum("Registration channel; default from the caller's role (console for league-committee staff, branch for bank staff, platform for the platform); only the platform may register source platform.", "platform", "online", "branch", "on_site", "console"),
			"volunteer_number": str("Number on the volunteer platform."),
		}),
		"Volunteer": obj{"type": "object", "description": "id_number and phone are masked (1101**********002X, 138****5678) unless the role may see them.",
			"properties": obj{
				"id": integer("Id."), "org_id": integer("Organisation."), "name": str("Legal name."), "emboss_name": str("Emboss name."),
				"id_type": str("Document type."), "id_number": str("ID number, masked unless allowed."), "id_number_masked": boolean("Whether id_number and phone are masked."),
				"gender": str("male, female or empty."), "phone": str("Phone, masked unless allowed."),
				"league_member": obj{"type": "boolean"}, "party_member": obj{"type": "boolean"}, "clothing_size": str("Size."),
				"source": str("Channel."), "volunteer_number": str("Platform number."), "created_at": obj{"type": "string", "format": "date-time"},
			}},
		"NewApplication": object([]string{"volunteer_id", "product"}, obj{
			"volunteer_id": integer("Volunteer."), "product": str("Product code."),
			"channel": enum("Channel; default from the caller's role.", "platform", "online", "branch", "on_site"),
		}),
		"Application": obj{"type": "object", "properties": obj{
			"id": integer("Id."), "number": str("Application number."), "volunteer_id": integer("Volunteer."),
			"org_id": integer("Organisation."), "org_name": str("Organisation's name (in lists only)."), "product": str("Product code."), "bank": str("Bank code."),
			"channel": ref("Channel"), "status": ref("Status"), "reason": str("Reason of the last rejection, decline or cancellation."),
			"version":    integer("Incremented on every transition."),
			"created_at": obj{"type": "string", "format": "date-time"}, "updated_at": obj{"type": "string", "format": "date-time"},
		}},
		"ApplicationPage": object(nil, obj{"items": arrayOf(ref("Application")), "next_cursor": str("Cursor of the next page; absent on the last.")}),
		"Decision":        object(nil, obj{"reason": str("Optional note.")}),
		"Rejection":       object([]string{"reason"}, obj{"reason": str("Why; required.")}),
		"Event": obj{"type": "object", "properties": obj{
			"id": integer("Id."), "from": str("Previous status; empty for creation."), "to": ref("Status"),
			"actor_role": str("Role of the actor."), "actor_token_id": integer("Token of the actor; 0 for internal processes."),
			"channel": ref("Channel"), "reason": str("Reason."), "at": obj{"type": "string", "format": "date-time"},
		}},
		"EventList": object(nil, obj{"items": arrayOf(ref("Event"))}),
		"Progress": obj{"type": "object", "properties": obj{
			"application_number": str("Number."), "name": str("Masked name (张*丰)."), "product": str("Product code."),
			"status": ref("Status"), "next": str("Next step; absent when final."),
			"steps":      arrayOf(object(nil, obj{"status": ref("Status"), "done": obj{"type": "boolean"}, "at": obj{"type": "string", "format": "date-time"}})),
			"updated_at": obj{"type": "string", "format": "date-time"},
		}},
		"StatusBody": object(nil, obj{"status": str("ok or ready.")}),
	}
	cardsOpenAPI(paths, schemas) // handlers_cards.go (issue 4)
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
	doc := openAPIDocument()
	maps.Copy(doc["paths"].(obj), consolePaths()) // openapi_reports.go
	return json.MarshalIndent(doc, "", "  ")
}
