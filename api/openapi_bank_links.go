package api

// bankLinksOpenAPI adds the bank links route and schemas to the OpenAPI
// document. EnableBankLinks calls it.
func bankLinksOpenAPI(paths, schemas obj) {
	paths["/v1/admin/banks"] = obj{"get": op("listBankLinks",
		"Per partner bank: its link's connections and sign-on, the last echo it answered, and its outbox backlog (queue depth, "+
			"failed requests, oldest open request). The link state is the answering serve process's; the backlog is the "+
			"database's.", []string{"province_admin"}, nil, "", obj{"200": jsonResponse("The banks, by code.", "BankLinkList")})}
	schemas["BankLink"] = object([]string{"bank", "linked", "addresses", "connections", "signed_on", "queue_depth", "failed_requests"}, obj{
		"bank":            str("Bank code (BOC, CEB, CCB, PSBC)."),
		"linked":          obj{"type": "boolean", "description": "Whether the answering process has a link to this bank."},
		"addresses":       integer("Bank host addresses configured."),
		"connections":     integer("Connections established."),
		"signed_on":       integer("Connections signed on (0800/001 answered 00); 0 while the bank is down."),
		"last_sign_on":    str("When the bank last answered a sign-on (absent: never)."),
		"last_echo":       str("When the bank last answered an echo 0800/301 (absent: never; echoes go after 30 s idle)."),
		"queue_depth":     integer("Requests still to be sent or answered (pending, in_flight, sent, waiting)."),
		"failed_requests": integer("Requests that failed and wait for an operator."),
		"oldest_open_at":  str("Creation time of the oldest request still open."),
	})
	schemas["BankLinkList"] = object([]string{"items"}, obj{"items": arrayOf(ref("BankLink"))})
}
