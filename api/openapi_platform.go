package api

// platformOpenAPI adds the platform link's routes and schemas to the
// OpenAPI document. EnablePlatform calls it.
func platformOpenAPI(paths, schemas obj) {
	admin := []string{"province_admin"}
	importers := []string{"province_admin", "platform"}
	paths["/v1/admin/platform-requests"] = obj{"get": op("listPlatformRequests",
		"Registration requests sent to the platform for people registered at a branch or on site, newest first "+
			"(same as `volcard platform list`). Only the volunteer's id is shown.", admin,
		[]obj{queryParam("state", "Only requests in this state.", enum("", platformRequestStates...)),
			queryParam("limit", "At most this many (default 100).", obj{"type": "integer", "minimum": 1, "maximum": 1000}),
			queryParam("cursor", "The next_cursor of the previous page (opaque; a malformed one is 400).", obj{"type": "string"})},
		"", obj{"200": jsonResponse("The requests.", "PlatformRequestList"), "400": problem("Bad query parameter (validation).")})}
	paths["/v1/admin/platform-requests/{id}/retry"] = obj{"post": op("retryPlatformRequest",
		"Send a failed registration request again now (same as `volcard platform retry`).", admin,
		[]obj{pathParam("id", "Request id"), idempotencyHeader}, "PlatformRetry", obj{
			"200": jsonResponse("The request, pending.", "PlatformRequest"),
			"404": problem("No such request (not-found)."),
			"409": problem("The request is not failed (conflict)."),
		})}
	paths["/v1/volunteers/{id}/platform-number"] = obj{"put": op("setPlatformNumber",
		"Set or correct a volunteer's platform (i志愿) number by hand, with a reason; audited. A number another volunteer "+
			"holds is 409. Closes the volunteer's open registration request.", reviewRoles,
		[]obj{pathParam("id", "Volunteer id"), idempotencyHeader}, "PlatformNumber", obj{
			"200": jsonResponse("The volunteer.", "Volunteer"),
			"404": problem("No such volunteer in the caller's scope (not-found)."),
			"409": problem("Another volunteer holds this number (conflict)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	batch := func(id, summary, body string) obj {
		return obj{"post": op(id, summary, importers, nil, body, obj{
			"200": jsonResponse("What the batch did; replayed when it had been committed before.", "ImportBatchResult"),
		})}
	}
	paths["/v1/imports/volunteers"] = batch("importVolunteers",
		"One batch (≤ 10,000 rows, body ≤ 8 MiB) of the platform's volunteers, idempotent by (import_id, seq) and by "+
			"platform number: a batch committed before is answered from its record and not applied again "+
			"(docs/platform-interface.md section 4). Rejected rows come back with line and reason.", "ImportVolunteersBatch")
	paths["/v1/imports/hours"] = batch("importHours",
		"One batch of platform service hours (total per platform number, replacing the last import).", "ImportHoursBatch")
	paths["/v1/imports/{id}"] = obj{"get": op("getImport",
		"The batches of an import committed so far, with their rejected rows (a re-run skips them).", importers,
		[]obj{pathParam("id", "Import id (1–64 letters, digits, '-' or '_')")}, "", obj{
			"200": jsonResponse("The committed batches.", "ImportStatus"), "400": problem("Malformed import id (validation)."),
		})}
	schemas["PlatformRequest"] = object(nil, obj{
		"id": integer("Request id."), "volunteer_id": integer("Volunteer."),
		"state":    str("pending, in_flight, done or failed."),
		"attempts": integer("Tries."), "volunteer_number": str("The platform's number, once answered."),
		"matched":         boolean("The platform already held the person (matched by ID number)."),
		"last_error":      str("Last error or operator note (no personal data)."),
		"next_attempt_at": str("When a pending request is due."), "created_at": str("Created."), "updated_at": str("Updated."),
	})
	schemas["PlatformRequestList"] = object([]string{"items"}, obj{"items": arrayOf(ref("PlatformRequest")),
		"next_cursor": str("The cursor= value of the next page, when there may be one.")})
	schemas["PlatformRetry"] = object(nil, obj{"reason": str("Why (optional, at most 200 characters).")})
	schemas["PlatformNumber"] = object([]string{"volunteer_number", "reason"}, obj{
		"volunteer_number": str("The platform number: 1–32 letters, digits or '-'."),
		"reason":           str("Why (required, at most 200 characters)."),
	})
	row := obj{
		"line": integer("Line or record of the file (for the report)."), "volunteer_number": str("Platform number (required)."),
		"name": str("Legal name, UTF-8."), "id_type": str("resident_id (default), passport, hk_macau_permit or taiwan_permit."),
		"id_number": str("ID number."), "birth_date": str("YYYY-MM-DD (required for non-resident IDs)."),
		"phone": str("11-digit mobile number."), "org_id": integer("volcard organisation id."),
		"league_member": boolean("League member."), "party_member": boolean("Party member."),
		"clothing_size": str("XS … XXXL (default M)."), "emboss_name": str("Pinyin for the card (derived when empty)."),
	}
	schemas["ImportVolunteer"] = object([]string{"volunteer_number", "name", "id_number", "phone", "org_id"}, row)
	schemas["ImportHours"] = object([]string{"volunteer_number", "hours"}, obj{
		"line": integer("Line or record of the file."), "volunteer_number": str("Platform number."),
		"hours": obj{"type": "number", "description": "Total service hours on the platform (0–200000)."},
	})
	key := obj{"import_id": str("Names the import: the same on a re-run of the same file (1–64 letters, digits, '-', '_')."),
		"seq": integer("The batch's place in the file, from 0.")}
	vb := obj{"rows": arrayOf(ref("ImportVolunteer"))}
	hb := obj{"rows": arrayOf(ref("ImportHours"))}
	for k, v := range key {
		vb[k], hb[k] = v, v
	}
	schemas["ImportVolunteersBatch"] = object([]string{"import_id", "seq", "rows"}, vb)
	schemas["ImportHoursBatch"] = object([]string{"import_id", "seq", "rows"}, hb)
	schemas["ImportReject"] = object([]string{"line", "reason"}, obj{"line": integer("Line or record."),
		"field": str("The field at fault, when one is."), "reason": str("Why (never the row's data).")})
	schemas["ImportBatchResult"] = object(nil, obj{"import_id": str("Import."), "seq": integer("Batch."),
		"kind": str("volunteers or hours."), "rows": integer("Rows received."), "created": integer("Volunteers created."),
		"updated": integer("Volunteers updated or matched."), "rejects": arrayOf(ref("ImportReject")),
		"replayed": boolean("Committed before: nothing applied now.")})
	schemas["ImportStatus"] = object(nil, obj{"import_id": str("Import."), "batches": arrayOf(ref("ImportBatchResult"))})
}
