package webhook

import "testing"

func TestDuplicateKeys(t *testing.T) {
	for body, want := range map[string]bool{
		`{"a":1,"b":{"a":2}}`:               false,
		`{"a":1,"A":2}`:                     true,
		`{"x":[{"k":1,"\u212a":2}]}`:        true,
		`{"x":[{"k":1},{"k":2}],"k":3}`:     false,
		`{"commits":[],"x":{},"Commits":1}`: true,
	} {
		if got := duplicateKeys([]byte(body)); got != want {
			t.Errorf("duplicateKeys(%s) = %v, want %v", body, got, want)
		}
	}
}
