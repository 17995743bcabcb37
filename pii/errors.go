package pii

import "errors"

// ErrKey reports a data key that is missing, malformed or of the wrong size.
var ErrKey = errors.New("pii: invalid data key")

// ErrDecrypt reports a ciphertext that cannot be opened: unknown key id,
// truncated data, or a failed authentication check. It never carries the data.
var ErrDecrypt = errors.New("pii: cannot decrypt")
