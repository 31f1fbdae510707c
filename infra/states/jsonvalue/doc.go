// Package jsonvalue is the codec of the JSON values the engine passes
// between states: values as encoding/json decodes them with UseNumber
// (nil, bool, string, json.Number, []any, map[string]any). It decodes one
// value, compares two by value, and encodes compactly as Step Functions
// prints them (no HTML escaping, object keys sorted).
package jsonvalue
