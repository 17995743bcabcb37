// Package client is an HTTP client for the volcard API. Its requests and
// answers are the wire package's types, the ones the api package serves.
// The client programs built on it sit beside it: client/terminal (check-in
// terminal), client/personalize (branch personalization) and client/enroll
// (on-site enrollment); none of them imports the server. Errors are
// *ProblemError for problem+json answers, ErrUnreachable when no answer
// came back; Retryable tells which to retry.
package client
