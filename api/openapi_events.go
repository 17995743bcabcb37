package api

// eventsOpenAPI adds the event feed and webhook routes and schemas to the
// OpenAPI document. EnableEvents calls it.
func eventsOpenAPI(paths, schemas obj) {
	roles := []string{"province_admin", "org_admin", "bank_staff", "platform"}
	idParam := pathParam("id", "Webhook endpoint id")
	notFound := problem("No such endpoint in the caller's scope (not-found).")
	mismatch := problem("Idempotency-Key reused with a different body (idempotency-mismatch).")
	paths["/v1/events"] = obj{"get": op("listFeedEvents",
		"The event feed: every change of applications, cards, volunteers, check-ins and on-site sessions in the caller's scope, "+
			"in a stable order with stable ids. Page with after=<next of the previous page>; a page with no items means nothing new "+
			"yet (poll again with the same cursor). An event is never inserted before a cursor already handed out. "+
			"Province admins and the platform see every event; org admins their organisation's subtree; bank staff their bank's "+
			"application, card and on-site session events. Types and payloads: docs/platform-interface.md.", roles,
		[]obj{
			queryParam("after", "Opaque cursor (next of the previous page); absent: from the start.", obj{"type": "string"}),
			queryParam("types", "Comma-separated event types, e.g. application.submitted,card.activated; absent: all.", obj{"type": "string"}),
			queryParam("limit", "Page size, 1–1000 (default 100).", obj{"type": "integer", "minimum": 1, "maximum": 1000}),
		}, "", obj{
			"200": jsonResponse("One page of events.", "EventPage"),
			"400": problem("Bad cursor, type or limit (validation)."),
		})}
	paths["/v1/webhooks"] = obj{
		"get": op("listWebhookEndpoints", "List the webhook endpoints in the caller's scope.", roles, nil, "",
			obj{"200": jsonResponse("The endpoints, by id.", "WebhookEndpointList")}),
		"post": op("createWebhookEndpoint",
			"Register a webhook endpoint (http or https URL without credentials). It receives the events of the given types "+
				"(all when absent) inside the caller's scope as signed POSTs (Volcard-Signature: t=UNIX,v1=HEX). The answer "+
				"carries the signing secret, shown this once. At most 200 endpoints in all. Literal loopback, private, link-local "+
				"and similar internal addresses are refused (400), and host names resolving to them fail at delivery, unless "+
				"the operator allows them (VOLCARD_WEBHOOK_ALLOW_PRIVATE). No Idempotency-Key: a replay would hand the secret "+
				"out again, so a retry registers a second endpoint (delete the spare one).", roles,
			nil, "NewWebhookEndpoint", func() obj {
				r := createResponses("WebhookEndpoint")
				delete(r, "422") // no Idempotency-Key
				r["400"] = problem("Invalid URL (scheme, credentials, fragment, an internal address), description or type (validation).")
				return r
			}()),
	}
	paths["/v1/webhooks/{id}"] = obj{
		"get": op("getWebhookEndpoint", "Get one endpoint (never its secret).", roles, []obj{idParam}, "",
			obj{"200": jsonResponse("The endpoint.", "WebhookEndpoint"), "404": notFound}),
		"patch": op("updateWebhookEndpoint", "Change an endpoint's URL, description or types; absent fields are kept.", roles,
			[]obj{idParam, idempotencyHeader}, "WebhookEndpointChange",
			obj{"200": jsonResponse("The endpoint after the change.", "WebhookEndpoint"), "404": notFound, "422": mismatch}),
		"delete": op("deleteWebhookEndpoint", "Delete an endpoint and its delivery log.", roles, []obj{idParam}, "",
			obj{"204": obj{"description": "Deleted."}, "404": notFound}),
	}
	paths["/v1/webhooks/{id}/enable"] = obj{"post": op("enableWebhookEndpoint",
		"Enable an endpoint disabled after repeated failure; its failure count is reset and the deliveries queued meanwhile "+
			"go out in order.", roles, []obj{idParam, idempotencyHeader}, "",
		obj{"200": jsonResponse("The endpoint.", "WebhookEndpoint"), "404": notFound, "422": mismatch})}
	paths["/v1/webhooks/{id}/deliveries"] = obj{"get": op("listWebhookDeliveries",
		"The endpoint's delivery log, newest first: each event queued for it, its state (pending, delivered, failed), attempts, "+
			"last HTTP status and error, next attempt.", roles,
		[]obj{idParam,
			queryParam("state", "Only deliveries in this state.", enum("", "pending", "delivered", "failed")),
			queryParam("before", "next_before of the previous page.", obj{"type": "integer", "minimum": 1}),
			queryParam("limit", "Page size, 1–200 (default 50).", obj{"type": "integer", "minimum": 1, "maximum": 200}),
		}, "", obj{
			"200": jsonResponse("One page of the log.", "WebhookDeliveryPage"),
			"400": problem("Bad filter (validation)."), "404": notFound,
		})}
	paths["/v1/webhook-deliveries/{id}/redeliver"] = obj{"post": op("redeliverWebhook",
		"Queue a delivery's event again for its endpoint, due now, as a new delivery (the old one stays in the log).", roles,
		[]obj{pathParam("id", "Delivery id"), idempotencyHeader}, "",
		obj{"202": jsonResponse("The new delivery.", "WebhookDelivery"), "404": problem("No such delivery in scope (not-found)."), "422": mismatch})}

	dt := func(desc string) obj { return obj{"type": "string", "format": "date-time", "description": desc} }
	schemas["Event"] = object([]string{"id", "type", "subject", "created_at", "data"}, obj{
		"id":   integer("Stable event id; a webhook receiver drops ids it has processed."),
		"type": str("Event type, subject.verb: application.submitted … application.activated, card.issued, card.activated, card.blocked, volunteer.created, checkin.tap_recorded, onsite_session.started …"),
		"subject": object([]string{"type", "id"}, obj{
			"type": enum("What the event is about.", "application", "card", "volunteer", "attendance", "onsite_session"),
			"id":   integer("Its id."),
		}),
		"created_at": dt("When the change happened."),
		"data":       obj{"type": "object", "description": "The type's payload: ids, states, org, bank, channel, last four of a PAN; never an ID number, phone, PAN or name."},
	})
	schemas["EventPage"] = object([]string{"items", "next"}, obj{
		"items": arrayOf(ref("Event")),
		"next":  str("Cursor for after= in the next read."),
	})
	types := obj{"type": "array", "items": obj{"type": "string"}, "description": "Event types; empty or absent: all."}
	schemas["NewWebhookEndpoint"] = object([]string{"url"}, obj{
		"url":         str("http(s) URL, no user or password, at most 2000 bytes."),
		"description": str("At most 200 characters."),
		"types":       types,
	})
	schemas["WebhookEndpointChange"] = object(nil, obj{
		"url": str("New URL."), "description": str("New description."), "types": types,
	})
	schemas["WebhookEndpoint"] = object([]string{"id", "url", "description", "types", "scope_path", "enabled", "failures", "created_at", "updated_at"}, obj{
		"id": integer("Endpoint id."), "url": str("Where events are POSTed."), "description": str("Free text."),
		"types":           types,
		"scope_path":      str("Organisation path the endpoint's events lie in (the creating token's scope; empty: all)."),
		"bank":            str("Bank whose events only it receives (a bank staff token's), absent: any."),
		"enabled":         boolean("False after repeated failure (or while disabled): deliveries wait queued."),
		"disabled_reason": str("Why it was disabled."),
		"failures":        integer("Failed attempts in a row."),
		"failing_since":   dt("First of those failures."),
		"created_at":      dt("Created."), "updated_at": dt("Last changed."),
		"secret": str("The signing secret (whsec_…): only in the answer to its creation."),
	})
	schemas["WebhookEndpointList"] = object([]string{"items"}, obj{"items": arrayOf(ref("WebhookEndpoint"))})
	schemas["WebhookDelivery"] = object([]string{"id", "endpoint_id", "event_id", "event_type", "state", "attempts", "created_at"}, obj{
		"id": integer("Delivery id."), "endpoint_id": integer("Endpoint."), "event_id": integer("Event."),
		"event_type":      str("Event type."),
		"state":           enum("pending (queued or retrying), delivered (answered 2xx), failed (given up after 72 h).", "pending", "delivered", "failed"),
		"attempts":        integer("Attempts made."),
		"next_attempt_at": dt("When it is due (pending)."),
		"last_status":     integer("HTTP status of the last attempt (absent: none came)."),
		"last_error":      str("Why the last attempt failed."),
		"created_at":      dt("Queued."), "delivered_at": dt("Answered 2xx."),
		"redelivery_of": integer("The delivery this one repeats (manual redelivery)."),
	})
	schemas["WebhookDeliveryPage"] = object([]string{"items"}, obj{
		"items":       arrayOf(ref("WebhookDelivery")),
		"next_before": integer("before= of the next page; absent: last page."),
	})
}
