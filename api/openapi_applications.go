package api

import "maps"

// applicationsOpenAPI adds the application routes (workflow, events, the
// public progress lookup) and their schemas to the OpenAPI document.
// openAPIDocument calls it.
func applicationsOpenAPI(paths, schemas obj) {
	idParam := func(what string) obj { return pathParam("id", what+" id") }
	transition := func(id, summary, body string) obj {
		return obj{"post": op(id, summary, reviewRoles, []obj{idParam("Application"), idempotencyHeader}, body, obj{
			"200": jsonResponse("The application after the step.", "Application"),
			"404": problem("No such application in scope (not-found)."),
			"409": problem("The step is not allowed from the current status (illegal-transition)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	}
	statuses := []string{"submitted", "approved", "rejected", "bank_pending", "bank_approved", "bank_declined", "personalized", "issued", "activated", "cancelled"}
	maps.Copy(paths, obj{
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
		"/v1/progress/loss-report": obj{"post": op("reportLoss", "Public loss report by the card's holder, who proves who they are "+
			"by application number and ID number as for the progress lookup; rate limited per client IP in buckets of its own. "+
			"Blocks the card through the bank as a staff block does (card event of role holder); check-in refuses the card at once. "+
			"A wrong pair and a right pair without a card that can be blocked get the same 404. Staff unblock the card with POST /v1/cards/{id}/unblock.",
			nil, nil, "LossReportRequest", obj{
				"200": jsonResponse("A block (or replacement) was already on its way or done: nothing written.", "LossReport"),
				"202": jsonResponse("The block is on its way to the bank (state block_pending).", "LossReport"),
				"404": problem("No card that can be blocked for this application number and ID number (not-found)."),
				"409": problem("A staff unblock of the card is on its way to the bank; report again later (illegal-transition)."),
				"429": problem("Too many reports from this address (rate-limited); see Retry-After."),
				"503": problem("The rate limit cannot be checked (its database is down); the report is refused (unavailable)."),
			})},
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
	})
	maps.Copy(schemas, obj{
		"Status":  enum("Application status.", statuses...),
		"Channel": enum("Channel.", "platform", "online", "branch", "on_site", "console", "system"),
		"NewApplication": object([]string{"volunteer_id", "product"}, obj{
			"volunteer_id": integer("Volunteer."), "product": str("Product code."),
			"channel": enum("Channel; default from the caller's role: bank_staff branch, platform platform, province_admin and org_admin online.", "platform", "online", "branch", "on_site"),
		}),
		"Application": obj{"type": "object", "properties": obj{
			"id": integer("Id."), "number": str("Application number."), "volunteer_id": integer("Volunteer."),
			"org_id": integer("Organisation."), "org_name": str("Organisation's name (in lists only)."),
			"volunteer_name": str("Applicant's name (in lists only; staff see names in full, as in GET /v1/volunteers/{id})."), "product": str("Product code."), "bank": str("Bank code."),
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
		"LossReportRequest": object([]string{"application_number", "id_number"}, obj{
			"application_number": str("Application number."), "id_number": str("The holder's ID number; never logged."),
		}),
		"LossReport": object(nil, obj{
			"application_number": str("Application number."), "last_four": str("Last four digits of the card's PAN."),
			"state":    enum("The card: its block is on its way, it is blocked, or a replacement is on its way.", "block_pending", "blocked", "replace_pending"),
			"reported": obj{"type": "boolean", "description": "True when this report asked the bank for the block."},
		}),
		"Progress": obj{"type": "object", "properties": obj{
			"application_number": str("Number."), "name": str("Masked name (张*丰)."), "product": str("Product code."),
			"status": ref("Status"), "next": str("Next step; absent when final."),
			"steps":      arrayOf(object(nil, obj{"status": ref("Status"), "done": obj{"type": "boolean"}, "at": obj{"type": "string", "format": "date-time"}})),
			"updated_at": obj{"type": "string", "format": "date-time"},
		}},
	})
}
