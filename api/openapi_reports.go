package api

import "maps"

// OpenAPI entries of the report routes (issue 8).

// reportsOpenAPI adds the report routes and schemas to the OpenAPI
// document. EnableReports calls it.
func reportsOpenAPI(paths, schemas obj) {
	maps.Copy(paths, reportPaths())
	maps.Copy(schemas, reportSchemas())
}

func reportFormatParams() []obj {
	return []obj{
		queryParam("format", "Response format; also chosen by Accept (application/json, text/csv, "+MediaXLSX+"). "+
			"CSV is UTF-8 with a byte order mark.", enum("", "json", "csv", "xlsx")),
		queryParam("org", "Organisation whose subtree is reported; default the caller's organisation, or the province.",
			obj{"type": "integer", "format": "int64"}),
	}
}

func reportResponses(desc, schema string) obj {
	return obj{
		"200": obj{"description": desc, "content": obj{
			"application/json": obj{"schema": ref(schema)},
			MediaCSV:           obj{"schema": obj{"type": "string"}},
			MediaXLSX:          obj{"schema": obj{"type": "string", "format": "binary"}},
		}},
		"400": problem("Bad query parameter (validation)."),
		"404": problem("The organisation does not exist or is outside the caller's scope (not-found)."),
	}
}

var yearParam = queryParam("year", "Calendar year (China Standard Time); default the current year.",
	obj{"type": "integer", "minimum": 2000, "maximum": 2100})

// reportPaths returns the OpenAPI path items of the report routes.
func reportPaths() obj {
	review := []string{"province_admin", "org_admin"}
	withBank := []string{"province_admin", "org_admin", "bank_staff"}
	return obj{
		"/v1/reports/targets": obj{"get": op("reportTargets",
			"Targets report: per city, county and university, registered volunteers ÷ resident population, league members "+
				"registered, card holders, city-card holders, the year's new volunteers with a card; each rated green / amber / red "+
				"against the target rules. Read from incremental counters.", review,
			append([]obj{yearParam}, reportFormatParams()...), "", reportResponses("The report.", "TargetsReport"))},
		"/v1/reports/applications": obj{"get": op("reportApplications",
			"Application funnel: counts by status, channel and bank (bank staff: its bank).", withBank,
			reportFormatParams(), "", reportResponses("The funnel.", "FunnelReport"))},
		"/v1/reports/service-hours": obj{"get": op("reportServiceHours",
			"Service hours credited at check-in in a year, per organisation (subtree included).", review,
			append([]obj{yearParam}, reportFormatParams()...), "", reportResponses("Hours per organisation.", "HoursReport"))},
		"/v1/reports/clothing": obj{"get": op("reportClothing",
			"Clothing-size order list: card holders per organisation and size.", review,
			reportFormatParams(), "", reportResponses("Sizes per organisation.", "ClothingReport"))},
		"/v1/reports/contacts": obj{"get": op("reportContacts",
			"Responsible person and liaison of each city, county and university; phones masked unless the role may see personal data.",
			withBank, reportFormatParams(), "", reportResponses("Contacts.", "ContactsReport"))},
		"/v1/reports/activity-checkins": obj{"get": op("reportActivityCheckins",
			"Live view of an activity's check-ins (latest 200 attendances, names masked, totals); the console polls it.", review,
			[]obj{queryParam("activity", "Activity id.", obj{"type": "integer", "format": "int64"}),
				queryParam("format", "json, csv or xlsx.", enum("", "json", "csv", "xlsx"))}, "",
			reportResponses("Check-ins.", "ActivityCheckins"))},
	}
}

// reportSchemas returns the component schemas of the report responses.
func reportSchemas() obj {
	num := func(d string) obj { return obj{"type": "number", "description": d} }
	nullable := func(d string) obj { return obj{"type": []string{"number", "null"}, "description": d} }
	indicator := object(nil, obj{
		"indicator":   enum("Indicator.", "volunteer_rate", "league_rate", "card_rate", "city_card_rate", "new_card_rate"),
		"numerator":   integer("Numerator."),
		"denominator": integer("Denominator."),
		"value":       nullable("Numerator ÷ denominator; null without a denominator."),
		"target":      nullable("Target ratio; null when no target applies."),
		"rating":      enum("green ≥ target, amber ≥ 80 % of it, red below, none without target or denominator.", "green", "amber", "red", "none"),
	})
	row := object(nil, obj{
		"org_id": integer("Organisation."), "parent_id": integer("Parent."), "kind": str("Kind."), "name": str("Name."),
		"region_code": str("GB/T 2260 code."), "depth": integer("Depth below the report's root."),
		"resident_population": integer("Resident population."), "league_members": integer("League members."),
		"registered":        integer("Volunteers registered by the end of the year (subtree)."),
		"league_registered": integer("Of which league members."), "holders": integer("Card holders by the end of the year."),
		"city_card_holders": integer("City-card holders by the end of the year."),
		"new_volunteers":    integer("Volunteers registered in the year."), "new_with_card": integer("Of which holding a card."),
		"indicators": arrayOf(indicator),
	})
	return obj{
		"TargetsReport": object(nil, obj{"year": integer("Year."), "root_org_id": integer("Root organisation."),
			"generated_at": str("Time of the report."), "rows": arrayOf(row)}),
		"FunnelReport": object(nil, obj{
			"by_status": obj{"type": "object", "additionalProperties": obj{"type": "integer"}, "description": "Count per status."},
			"rows": arrayOf(object(nil, obj{"status": str("Status."), "channel": str("Channel."),
				"bank_code": str("Bank."), "count": integer("Applications.")}))}),
		"HoursReport": object(nil, obj{"year": integer("Year."), "rows": arrayOf(object(nil, obj{
			"org_id": integer("Organisation."), "name": str("Name."), "kind": str("Kind."), "depth": integer("Depth."),
			"hours": num("Hours."), "minutes": integer("Minutes."), "attendances": integer("Attendances."),
			"volunteers": integer("Distinct volunteers (summed over organisations).")}))}),
		"ClothingReport": object(nil, obj{"rows": arrayOf(object(nil, obj{
			"org_id": integer("Organisation."), "name": str("Name."), "kind": str("Kind."),
			"sizes": obj{"type": "object", "additionalProperties": obj{"type": "integer"}, "description": "Holders per size XS…XXXL."},
			"total": integer("Holders.")}))}),
		"ActivityCheckins": object(nil, obj{"activity_id": integer("Activity."), "title": str("Title."),
			"attendances": integer("Attendances."), "open": integer("Checked in, not out."), "minutes": integer("Credited minutes."),
			"rows": arrayOf(object(nil, obj{"attendance_id": integer("Attendance."), "volunteer_id": integer("Volunteer."),
				"name": str("Masked name."), "in_at": str("Tap in."), "out_at": obj{"type": []string{"string", "null"}, "description": "Tap out."},
				"minutes": integer("Credited minutes.")}))}),
		"ContactsReport": object(nil, obj{"phones_masked": boolean("Whether phones are masked for the caller."),
			"rows": arrayOf(object(nil, obj{"org_id": integer("Organisation."), "name": str("Name."), "kind": str("Kind."),
				"region_code": str("GB/T 2260 code."), "responsible_name": str("Responsible person."),
				"responsible_phone": str("Phone (maybe masked)."), "liaison_name": str("Liaison."),
				"liaison_phone": str("Phone (maybe masked).")}))}),
	}
}
