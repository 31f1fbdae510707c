package source

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestEventSamples keeps events/source in step with the types: every
// sample decodes strictly, and the error samples name real error types the
// way aws-lambda-go reports them (the pointer's element type name).
func TestEventSamples(t *testing.T) {
	strict := func(t *testing.T, file string, v any) {
		t.Helper()
		dec := json.NewDecoder(bytes.NewReader(readFile(t, "../../events/source/"+file)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	for _, f := range []string{"request.json", "request-local.json"} {
		var req Request
		strict(t, f, &req)
		if req.Bucket == "" || req.Key == "" || req.Push.After == "" || req.Execution == "" {
			t.Errorf("%s: incomplete request %+v", f, req)
		}
		if _, err := locate(req.Push); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	var art Artifact
	strict(t, "response.json", &art)
	if art.Location != art.Bucket+"/"+art.Key {
		t.Errorf("response.json: location %q is not bucket/key", art.Location)
	}
	types := map[string]bool{}
	for _, err := range []error{&RequestError{}, &FetchError{}, &ArchiveError{}, &UploadError{}, &TokenError{}} {
		types[reflect.TypeOf(err).Elem().Name()] = true
	}
	for _, f := range []string{"error-fetch.json", "error-local.json"} {
		var e struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		strict(t, f, &e)
		if !types[e.ErrorType] {
			t.Errorf("%s: errorType %q is none of %v", f, e.ErrorType, types)
		}
	}
}
