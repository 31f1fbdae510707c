package run

import "errors"

// Errors the package returns; callers tell them apart with errors.Is.
var (
	ErrNotFound  = errors.New("no such run")
	ErrRunning   = errors.New("the run is still running")
	ErrSucceeded = errors.New("the run succeeded: nothing to retry")
	ErrNoLog     = errors.New("no such log")
	ErrBadInput  = errors.New("invalid request")
)
