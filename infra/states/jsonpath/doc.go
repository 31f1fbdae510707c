// Package jsonpath implements the JSONPath dialect Amazon States Language
// uses for InputPath, OutputPath, ResultPath, ItemsPath, Parameters ".$"
// values and Choice variables: "$", dot and bracket member access, array
// indexes (negative from the end), wildcards, unions, slices, recursive
// descent ("..") and simple filters ("[?(@.price < 10)]").
//
// Values are the Go forms encoding/json produces with UseNumber:
// map[string]any, []any, string, json.Number, bool and nil. Paths never
// modify the values they read; Set copies what it changes.
package jsonpath
