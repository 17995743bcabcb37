package webhook_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/volcard/volcard/api/webhook"
)

// A receiver checks each request's Volcard-Signature on the raw body before
// parsing it (docs/platform-interface.md section 2).
func ExampleVerify() {
	secret := "whsec_example"
	body := []byte(`{"id":1042,"type":"application.approved"}`)
	sent := time.Unix(1780000000, 0)
	header := webhook.Sign(secret, sent, body) // what volcard sends

	fmt.Println(webhook.Verify(secret, header, body, sent.Add(time.Minute), 5*time.Minute))
	err := webhook.Verify("whsec_other", header, body, sent, 5*time.Minute)
	fmt.Println(errors.Is(err, webhook.ErrBadSignature))
	err = webhook.Verify(secret, header, body, sent.Add(10*time.Minute), 5*time.Minute)
	fmt.Println(errors.Is(err, webhook.ErrStaleTimestamp))
	// Output:
	// <nil>
	// true
	// true
}
