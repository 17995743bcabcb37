package api

import (
	"maps"

	"github.com/volcard/volcard/issuance"
)

// personalizationOpenAPI adds the personalization routes and schemas to the OpenAPI document.
// EnablePersonalization calls it.
func personalizationOpenAPI(paths, schemas obj) {
	maps.Copy(paths, personalizationPaths())
	maps.Copy(schemas, personalizationSchemas())
}

func personalizationPaths() obj {
	bs := []string{string(issuance.RoleBankStaff)}
	return obj{
		"/v1/applications/{id}/personalizations": obj{"post": op("openPersonalization",
			"Open a personalization session for a bank_approved application; returns batch 1 (SELECT card manager, GET CPLC, INITIALIZE UPDATE). A new session supersedes the application's open ones.",
			bs, []obj{pathParam("id", "Application ID")}, "OpenPersonalization", obj{
				"201": jsonResponse("Session opened, batch 1", "PersonalizationStep"),
				"400": problem("Invalid body or PIN"),
				"404": problem("No such application in your scope"),
				"409": problem("The application is not bank_approved"),
			})},
		"/v1/personalizations/{sid}/responses": obj{"post": op("postPersonalizationResponses",
			"Post the card's responses to the last batch: after batch 1 the answer is batch 2 (EXTERNAL AUTHENTICATE, INSTALL, STORE DATA, read-back, INTERNAL AUTHENTICATE); after batch 2 the server checks the read-back and DDA, records the card and moves the application to issued (phase done).",
			bs, []obj{pathParam("sid", "Session ID")}, "PersonalizationResponses", obj{
				"200": jsonResponse("Next batch or result", "PersonalizationStep"),
				"400": problem("Responses do not fit the batch"),
				"404": problem("No such session in your scope"),
				"409": problem("Session closed, or card not blank"),
				"410": problem("Session expired"),
				"422": problem("The card refused a command or failed its check"),
			})},
	}
}

func personalizationSchemas() obj {
	return obj{
		"OpenPersonalization": object([]string{"reader"}, obj{
			"reader":    str("Reader name (recorded with the card)"),
			"branch":    str("Branch name or code (recorded with the card)"),
			"pin":       str("Offline PIN, 4-12 digits (or pin_block); never logged or stored"),
			"pin_block": str("ISO 9564 format 2 plaintext PIN block, 16 hex digits (or pin)"),
		}),
		"PersonalizationResponses": object([]string{"responses"}, obj{
			"responses": arrayOf(str("Response APDU (data and SW1 SW2), hex")),
		}),
		"PersonalizationResult": object(nil, obj{
			"application_id":     integer("Application ID"),
			"application_number": str("Application number"),
			"status":             str("Application status (issued)"),
			"masked_pan":         str("PAN read back from the card, masked"),
			"name":               str("Cardholder name read back"),
			"emboss_name":        str("Extended name (pinyin) read back"),
			"chip_serial":        str("Chip serial from the CPLC"),
			"psn":                str("PAN sequence number"),
			"expiry":             str("Expiry YYMM"),
			"reader":             str("Reader"),
			"branch":             str("Branch"),
			"recovered":          boolean("The card had been written by an earlier session (it carries that session's PIN)"),
			"personalized_at":    obj{"type": "string", "format": "date-time"},
		}),
		"PersonalizationStep": object([]string{"session_id", "phase", "commands"}, obj{
			"session_id":     str("Session ID"),
			"application_id": integer("Application ID"),
			"phase":          enum("Batch kind", "select", "script", "read_back", "done"),
			"commands":       arrayOf(str("Command APDU, hex; relay in order, stop at the first status other than 9000")),
			"expires_at":     obj{"type": "string", "format": "date-time"},
			"result":         ref("PersonalizationResult"),
		}),
	}
}
