package jsonpath

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGet(t *testing.T) {
	doc := `{"foo":123,"bar":["a","b","c"],"car":{"cdr":true},"store":{"book":[{"price":8,"t":"x"},{"price":12,"t":"y"}]},"a b":1}`
	tests := []struct {
		path, want string
		err        error
	}{
		{"$", doc, nil},
		{"$.foo", `123`, nil},
		{"$.bar", `["a","b","c"]`, nil},
		{"$.car.cdr", `true`, nil},
		{"$.bar[0]", `"a"`, nil},
		{"$.bar[-1]", `"c"`, nil},
		{"$['car']['cdr']", `true`, nil},
		{"$.a b", `1`, nil},
		{"$.bar[1:]", `["b","c"]`, nil},
		{"$.bar[0,2]", `["a","c"]`, nil},
		{"$.bar[*]", `["a","b","c"]`, nil},
		{"$.store.book[*].price", `[8,12]`, nil},
		{"$..price", `[8,12]`, nil},
		{"$.store.book[?(@.price < 10)].t", `["x"]`, nil},
		{"$.store.book[?(@.t == 'y')].price", `[12]`, nil},
		{"$.nope", ``, ErrNoMatch},
		{"$.foo.x", ``, ErrNoMatch},
		{"$.bar[9]", ``, ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := Parse(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Get(decode(t, doc))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			if diff := cmp.Diff(decode(t, tt.want), got); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "foo", "$.", "$[", "$.a[x]", "$.a[?(x)]", "$.a[1:2:0]", "$x"} {
		t.Run(s, func(t *testing.T) {
			if _, err := Parse(s); !errors.Is(err, ErrSyntax) {
				t.Errorf("Parse(%q) err = %v, want ErrSyntax", s, err)
			}
		})
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		root, path, val, want string
		err                   bool
	}{
		{`{"a":1}`, "$", `2`, `2`, false},
		{`{"a":1}`, "$.b", `2`, `{"a":1,"b":2}`, false},
		{`{"a":1}`, "$.b.c.d", `2`, `{"a":1,"b":{"c":{"d":2}}}`, false},
		{`{"a":{"x":1}}`, "$.a.y", `2`, `{"a":{"x":1,"y":2}}`, false},
		{`{"a":[1,2]}`, "$.a[1]", `3`, `{"a":[1,3]}`, false},
		{`"str"`, "$.a", `1`, ``, true},
		{`{"a":1}`, "$.a.b", `1`, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.path+tt.root, func(t *testing.T) {
			root := decode(t, tt.root)
			got, err := MustParse(tt.path).Set(root, decode(t, tt.val))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			if tt.err {
				return
			}
			if diff := cmp.Diff(decode(t, tt.want), got); diff != "" {
				t.Error(diff)
			}
			if diff := cmp.Diff(decode(t, tt.root), root); diff != "" {
				t.Errorf("Set modified its input: %s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"$", "$.a.b", "$['a b'][0]", "$..x", "$.a[?(@.b > 1 && @.c)]", "$.a[1:-1:2]", "$.a[*]"} {
		f.Add(s)
	}
	doc := decode(f, `{"a":[{"b":2,"c":"x"},{"b":0}],"x":{"x":1}}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		_, _ = p.Get(doc)
		if p.Reference() {
			_, _ = p.Set(doc, "v")
		}
	})
}

func TestNormalized(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"$", "$"},
		{"$.a", "$['a']"},
		{"$.a-b.c[2]", "$['a-b']['c'][2]"},
		{"$['it\\'s']", "$['it's']"},
		{"$.a[*]", "$.a[*]"},
		{"$..a", "$..a"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := MustParse(tc.in).Normalized(); got != tc.want {
				t.Errorf("Normalized() = %q, want %q", got, tc.want)
			}
		})
	}
}
