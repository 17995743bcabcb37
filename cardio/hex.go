package cardio

import "github.com/volcard/volcard/evidence"

// Hex is a byte string that marshals as upper-case hex text (JSON card
// images, key files, the API's card evidence). It is evidence.Hex, named
// here for the card code that has always used it.
type Hex = evidence.Hex
