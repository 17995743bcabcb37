// Package client is an HTTP client for the volcard API, and owns the wire
// types of the check-in routes (challenges, taps, activities, service
// records, benefit checks) that the api package serves. The terminal
// (client/terminal) uses it; the personalize and enroll commands can reuse
// it. Errors are *ProblemError for problem+json answers, ErrUnreachable
// when no answer came back; Retryable tells which to retry.
package client
