package api

// onsiteOpenAPI adds the on-site enrollment routes and schemas to the
// OpenAPI document. EnableOnsite calls it.
func onsiteOpenAPI(paths, schemas obj) {
	staff := []string{"province_admin", "org_admin", "bank_staff"}
	admins := []string{"province_admin", "org_admin"}
	bank := []string{"province_admin", "bank_staff"}
	idParam := pathParam("id", "On-site session id")
	notFound := problem("No such session in scope (not-found).")
	illegal := problem("Not allowed in the session's status (illegal-transition).")
	transition := func(id, summary string, roles []string) obj {
		return obj{"post": op(id, summary, roles, []obj{idParam, idempotencyHeader}, "Decision", obj{
			"200": jsonResponse("The session after the step.", "OnsiteSession"),
			"404": notFound, "409": illegal,
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	}
	paths["/v1/onsite-sessions"] = obj{"get": op("listOnsiteSessions",
		"List on-site sessions in scope, newest first, with cursor pagination: an org admin sees its subtree's sessions, "+
			"bank staff its bank's sessions in its branch's city, a province admin all. Each item carries the organisation's name "+
			"and the roster figures; the branch contact is only in GET /v1/onsite-sessions/{id}.", staff,
		[]obj{
			queryParam("state", "Only sessions in this state.", enum("", "requested", "scheduled", "in_progress", "completed", "cancelled")),
			queryParam("org", "Only sessions of this organisation's subtree.", obj{"type": "integer", "minimum": 1}),
			queryParam("limit", "Page size, 1–200 (default 50).", obj{"type": "integer", "minimum": 1, "maximum": 200}),
			queryParam("cursor", "next_cursor of the previous page.", obj{"type": "string"}),
		}, "", obj{
			"200": jsonResponse("One page.", "OnsiteSessionPage"),
			"400": problem("Bad filter or cursor (validation)."),
			"404": problem("Organisation filter out of scope (not-found)."),
		}), "post": op("requestOnsiteSession",
		"Request on-site batch enrollment for a group of 30 or more; assigned to the branch of the product's bank in the organisation's city. "+
			"Fewer than 30 is refused (validation) with a pointer to branch or online application.",
		admins, []obj{idempotencyHeader}, "NewOnsiteSession", obj{
			"201": jsonResponse("Requested.", "OnsiteSession"),
			"404": problem("Organisation out of scope (not-found)."),
			"409": problem("A request with the same Idempotency-Key in flight (idempotency-in-flight)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	paths["/v1/onsite-sessions/{id}"] = obj{"get": op("getOnsiteSession", "Get a session with its branch and contact.", staff,
		[]obj{idParam}, "", obj{"200": jsonResponse("The session.", "OnsiteSession"), "404": notFound})}
	paths["/v1/onsite-sessions/{id}/schedule"] = transition("scheduleOnsiteSession", "requested → scheduled (the bank fixes the visit).", bank)
	paths["/v1/onsite-sessions/{id}/start"] = transition("startOnsiteSession", "scheduled → in_progress (staff on site).", bank)
	paths["/v1/onsite-sessions/{id}/complete"] = transition("completeOnsiteSession", "in_progress → completed.", bank)
	paths["/v1/onsite-sessions/{id}/cancel"] = transition("cancelOnsiteSession", "Cancel a session not yet completed.", []string{"province_admin", "bank_staff", "org_admin"})
	upload := op("uploadRoster",
		"Upload a roster (CSV in UTF-8 or GB18030, or XLSX; at most 8 MiB, 20,000 rows, 256 characters a cell) and get the row report. "+
			"Headers in Chinese or English: 姓名/name, 身份证号/id_number, 手机号/phone, 是否团员/league_member, 服装尺码/clothing_size, "+
			"optional 拼音/emboss_name; other columns ignored (template: GET /v1/onsite-sessions/roster-template.csv). "+
			"Idempotent: the same file uploaded again changes nothing. A different file for a session that has a roster must say "+
			"what it does: mode=append adds its rows, mode=replace makes it the roster (earlier rows not in it are removed and "+
			"their submitted applications cancelled; refused once any was approved); without mode it is 409 saying so.",
		staff, []obj{idParam,
			queryParam("rows", "all (default) or rejected: which rows the report lists.", enum("", "all", "rejected")),
			queryParam("filename", "File name to record for a raw body.", obj{"type": "string"}),
			queryParam("mode", "append or replace: what a file does to a session that has a roster.", enum("", "append", "replace"))}, "", obj{
			"200": jsonResponse("Row report: every row accepted or rejected with reasons.", "RosterReport"),
			"400": problem("File-level problem: malformed file, missing required column, too many rows, cell too long (validation)."),
			"404": notFound, "409": problem("The session is closed (illegal-transition), or it has a roster and the request gives no mode, or a replacement of an approved roster (conflict)."),
			"413": problem("File over 8 MiB, or a workbook that unzips too large (payload-too-large)."),
			"415": problem("Not multipart/form-data, text/csv, the XLSX type or application/octet-stream (unsupported-media-type)."),
		})
	upload["requestBody"] = obj{"required": true, "content": obj{
		"multipart/form-data": obj{"schema": object([]string{"file"}, obj{"file": obj{"type": "string", "format": "binary"}})},
		"text/csv":            obj{"schema": obj{"type": "string", "format": "binary"}},
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": obj{"schema": obj{"type": "string", "format": "binary"}},
		"application/octet-stream": obj{"schema": obj{"type": "string", "format": "binary"}},
	}}
	paths["/v1/onsite-sessions/{id}/roster"] = obj{"post": upload}
	for ext, media := range map[string]string{"csv": MediaCSV, "xlsx": MediaXLSX} {
		id := "rosterTemplateCSV"
		if ext == "xlsx" {
			id = "rosterTemplateXLSX"
		}
		paths["/v1/onsite-sessions/roster-template."+ext] = obj{"get": op(id,
			"The roster template: one header row, 姓名 身份证号 手机号 是否团员 服装尺码 拼音（选填）, no data rows "+
				"(columns in docs/staff-api.md); CSV is UTF-8 with a byte order mark.", staff, nil, "", obj{
				"200": obj{"description": "The template.", "content": obj{media: obj{"schema": obj{"type": "string"}}}}})}
	}
	paths["/v1/onsite-sessions/{id}/rejected.csv"] = obj{"get": op("rejectedRoster",
		"The rejected rows of the latest upload as CSV: 行号 (the row's line in the uploaded file, the header being line 1), "+
			"the roster columns and 原因 (the reasons); UTF-8 with BOM, or GB18030. ID numbers and phones are full for bank_staff, "+
			"masked for other roles, who find the rows in their original file by 行号.", staff,
		[]obj{idParam, queryParam("encoding", "utf-8 (default) or gb18030.", enum("", "utf-8", "gb18030"))}, "", obj{
			"200": obj{"description": "CSV file.", "content": obj{"text/csv": obj{"schema": obj{"type": "string"}}}},
			"400": problem("Unknown encoding (validation)."), "404": notFound,
		})}
	paths["/v1/onsite-sessions/{id}/approve"] = obj{"post": op("approveOnsiteSession",
		"Approve every submitted application of the session's accepted rows in one action; with the bank outbox they go to the bank as one batch.",
		admins, []obj{idParam, idempotencyHeader}, "Decision", obj{
			"200": jsonResponse("How many were approved and sent.", "OnsiteApproval"), "404": notFound, "409": illegal,
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	paths["/v1/onsite-sessions/{id}/report"] = obj{"get": op("onsiteReport", "The session's counts.", staff, []obj{idParam}, "",
		obj{"200": jsonResponse("Counts.", "OnsiteReport"), "404": notFound})}
	paths["/v1/onsite-sessions/{id}/queue"] = obj{"get": op("onsiteQueue",
		"The batch personalization queue in roster order (for `volcard personalize --batch`).", staff, []obj{idParam}, "",
		obj{"200": jsonResponse("Queue.", "OnsiteQueue"), "404": notFound})}

	paths["/v1/onsite-sessions/{id}/queue/{entry}"] = obj{"post": op("markOnsiteQueueEntry",
		"Record a personalization outcome of a queue entry (personalized, failed, skipped, or pending to retry); for `volcard personalize --batch`.",
		bank, []obj{idParam, pathParam("entry", "Queue entry id"), idempotencyHeader}, "QueueMark", obj{
			"200": jsonResponse("The entry.", "QueueEntry"), "404": problem("No such entry in this session in scope (not-found)."),
			"422": problem("Idempotency-Key reused with a different body (idempotency-mismatch)."),
		})}
	count := func(d string) obj { return obj{"type": "integer", "description": d} }
	schemas["NewOnsiteSession"] = object([]string{"org_id", "site", "date", "expected_count", "product"}, obj{
		"org_id": integer("Requesting organisation."), "site": str("Where."), "date": obj{"type": "string", "format": "date"},
		"expected_count": obj{"type": "integer", "minimum": 30, "description": "Expected head count; at least 30."},
		"product":        str("Product code; its bank's branch in the organisation's city is assigned."),
	})
	schemas["OnsiteSession"] = obj{"type": "object", "properties": obj{
		"id": integer("Id."), "org_id": integer("Organisation."), "city_id": integer("City whose branch serves it."),
		"product": str("Product code."), "bank": str("Bank code."), "site": str("Site."), "date": obj{"type": "string", "format": "date"},
		"expected_count": count("Expected head count."),
		"status":         enum("Session status.", "requested", "scheduled", "in_progress", "completed", "cancelled"),
		"reason":         str("Reason of a cancellation."),
		"branch": object(nil, obj{"id": integer("Branch."), "bank": str("Bank."), "name": str("Branch name."),
			"contact_name": str("Contact for on-site enrollment."), "contact_phone": str("Contact's work phone.")}),
		"created_at": obj{"type": "string", "format": "date-time"}, "updated_at": obj{"type": "string", "format": "date-time"},
	}}
	item := obj{"type": "object", "description": "OnsiteSession fields (branch without contact) and these.", "allOf": []obj{ref("OnsiteSession"),
		object(nil, obj{"org_name": str("Organisation's name."), "accepted": count("Roster rows stored."),
			"rejected": count("Rejected rows of the latest upload.")})}}
	schemas["OnsiteSessionPage"] = object(nil, obj{"items": arrayOf(item), "next_cursor": str("Cursor of the next page; absent on the last.")})
	schemas["RosterReport"] = obj{"type": "object", "properties": obj{
		"session_id": integer("Session."), "upload_id": integer("Upload (one per distinct file)."), "sha256": str("SHA-256 of the file."),
		"format": enum("Format.", "csv", "xlsx"), "encoding": enum("Detected encoding.", "utf-8", "gb18030"),
		"repeated": boolean("This exact file was uploaded before."), "rows": count("Data rows."),
		"accepted": count("Accepted rows."), "stored": count("Rows stored by this upload."),
		"already_stored": count("Accepted rows stored by an earlier upload (unchanged)."),
		"rejected":       count("Rejected rows."), "blank_rows": count("Blank rows skipped."),
		"rejected_url": str("Where to download the rejected rows."),
		"mode":         enum("What this upload did.", "first", "append", "replace"),
		"removed":      count("Earlier rows a replacement removed."),
		"items": arrayOf(obj{"type": "object", "properties": obj{
			"line": count("Line in the file."), "status": enum("Outcome.", "accepted", "rejected"),
			"existing": boolean("Stored by an earlier upload."), "name": str("Name."),
			"id_number": str("ID number, masked unless bank_staff."), "phone": str("Phone, masked unless bank_staff."),
			"volunteer_id": integer("Volunteer."), "application_id": integer("Application."),
			"new_volunteer": boolean("Registered by this session (source on_site)."),
			"reasons": arrayOf(object([]string{"code", "message"}, obj{
				"code": enum("Reason code.", "missing_field", "bad_checksum", "bad_id_number", "under_age", "duplicate_in_file",
					"live_application", "bad_phone", "bad_size", "bad_league_member", "bad_name", "bad_emboss_name",
					"name_mismatch", "product_not_offered"),
				"field": str("Column."), "message": str("Why."),
			})),
		}}),
	}}
	schemas["OnsiteApproval"] = object(nil, obj{"session_id": integer("Session."),
		"approved": count("Applications approved by this call."), "sent": count("Of those, queued to the bank (outbox).")})
	schemas["OnsiteReport"] = object(nil, obj{
		"session_id": integer("Session."), "status": str("Session status."), "requested": count("Expected head count."),
		"accepted": count("Accepted rows."), "rejected": count("Rejected rows of the latest upload."),
		"submitted": count("Awaiting approval."), "approved": count("Approved, not yet sent."),
		"sent": count("Sent to the bank (bank_pending or later)."), "bank_approved": count("Approved by the bank."),
		"bank_declined": count("Declined by the bank."), "personalized": count("Cards personalized."),
		"failed": count("Personalization failed."), "cancelled": count("Applications cancelled or rejected."),
		"uploaded_rows": count("Data rows of every roster upload."),
		"uploads": arrayOf(obj{"type": "object", "properties": obj{
			"id": integer("Upload."), "filename": str("File name."), "mode": enum("What it did.", "first", "append", "replace"),
			"rows": count("Data rows."), "accepted": count("Accepted rows."), "rejected": count("Rejected rows."),
			"removed": count("Earlier rows it removed (replace)."), "at": obj{"type": "string", "format": "date-time"},
		}}),
	})
	schemas["QueueMark"] = object([]string{"state"}, obj{
		"state": enum("Outcome.", "pending", "personalized", "failed", "skipped"), "note": str("Error or skip reason."),
	})
	schemas["QueueEntry"] = obj{"type": "object", "properties": obj{
		"entry_id": integer("Queue entry."), "application_id": integer("Application."), "volunteer_id": integer("Volunteer."),
		"name": str("Name."), "personalize": enum("Personalization state.", "pending", "personalized", "failed", "skipped"),
		"attempts": count("Attempts."), "note": str("Note."),
	}}
	schemas["OnsiteQueue"] = object(nil, obj{"session_id": integer("Session."), "items": arrayOf(obj{"type": "object", "properties": obj{
		"position": count("1-based, roster order."), "entry_id": integer("Queue entry."), "application_id": integer("Application."),
		"application_number": str("Application number."), "volunteer_id": integer("Volunteer."), "name": str("Name."),
		"emboss_name": str("Emboss name."), "status": ref("Status"),
		"personalize": enum("Personalization state.", "pending", "personalized", "failed", "skipped"),
		"attempts":    count("Personalization attempts."), "note": str("Last error or skip reason."),
	}})})
}
