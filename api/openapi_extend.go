package api

import (
	"encoding/json"
	"errors"
	"fmt"
)

// extendOpenAPI lets add put the paths and schemas of routes registered
// after New (EnableCheckin, EnablePersonalization, the outbox admin routes) into the
// served OpenAPI document.
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
