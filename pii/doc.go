// Package pii protects personal data: it encrypts ID numbers and phone
// numbers at rest with AES-256-GCM, computes HMAC-SHA256 blind indexes for
// exact lookup, masks values for display, and provides Secret, a string
// wrapper that prints masked wherever it is formatted, marshalled or logged.
//
// Both the encryption key and the index key are derived with HKDF-SHA256 from
// one 32-byte data key (VOLCARD_DATA_KEY). Each ciphertext starts with a key
// id byte so keys can be rotated: old keys stay readable, new data is sealed
// with the current key.
package pii
