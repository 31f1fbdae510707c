package jsonvalue

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	v, err := Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{`{"b":1,"a":[true,false,null,"x\"y\\z\n\u0001<>&\u2028é"],"c":{"d":1.5e3}}`, `"\u00ff"`, `[]`, `{}`} {
		v := decode(t, s)
		got, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
		if string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("Marshal(%s) = %s, want %s", s, got, want.String())
		}
	}
	if got := string(AppendString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
}
