package intrinsic

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

// Examples from https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
func TestEval(t *testing.T) {
	input := `{"name":"Arnav","inputArray":[1,2,3,4,5,6,7,8,9],"arrayUnique":[1,2,3,3,3,3,3,3,4],
"json1":{"a":{"a1":1,"a2":2},"b":2},"json2":{"a":{"a3":1,"a4":2},"c":3},"someString":"{\"number\": 20}",
"inputString":"This,is+a,test+string","splitter":",+","input":"Data to encode","base64":"RGF0YSB0byBlbmNvZGU=","value1":111,"step":-1,"n":{"x":1}}`
	ctx := `{"Execution":{"Id":"arn:x","Name":"exec"}}`
	tests := []struct {
		expr, want string
		err        error
	}{
		{`States.Format('Hello, my name is {}.', $.name)`, `"Hello, my name is Arnav."`, nil},
		{`States.Format('Escaped \{\} braces {} and \'quote\'', 'x')`, `"Escaped {} braces x and 'quote'"`, nil},
		{`States.Format('{} {} {}', 1, true, null)`, `"1 true null"`, nil},
		{`States.Format('{}', $$.Execution.Name)`, `"exec"`, nil},
		{`States.StringToJson($.someString)`, `{"number":20}`, nil},
		{`States.JsonToString($.n)`, `"{\"x\":1}"`, nil},
		{`States.Array('Foo', 2020, $.name)`, `["Foo",2020,"Arnav"]`, nil},
		{`States.ArrayPartition($.inputArray,4)`, `[[1,2,3,4],[5,6,7,8],[9]]`, nil},
		{`States.ArrayContains($.inputArray, 5)`, `true`, nil},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`, nil},
		{`States.ArrayRange(3, 1, $.step)`, `[3,2,1]`, nil},
		{`States.ArrayGetItem($.inputArray, 5)`, `6`, nil},
		{`States.ArrayLength($.inputArray)`, `9`, nil},
		{`States.ArrayUnique($.arrayUnique)`, `[1,2,3,4]`, nil},
		{`States.Base64Encode($.input)`, `"RGF0YSB0byBlbmNvZGU="`, nil},
		{`States.Base64Decode($.base64)`, `"Data to encode"`, nil},
		{`States.Hash($.input, 'SHA-1')`, `"72a42d0f8593b8ce67954a60e19afdaa929600e5"`, nil},
		{`States.JsonMerge($.json1, $.json2, false)`, `{"a":{"a3":1,"a4":2},"b":2,"c":3}`, nil},
		{`States.MathRandom(1, 2)`, `1`, nil},
		{`States.MathAdd($.value1, $.step)`, `110`, nil},
		{`States.MathAdd(States.ArrayLength($.inputArray), 1)`, `10`, nil},
		{`States.StringSplit($.inputString, $.splitter)`, `["This","is","a","test","string"]`, nil},
		{`States.Format('{}', $.missing)`, ``, ErrPath},
		{`States.MathAdd($.name, 1)`, ``, ErrFailure},
		{`States.JsonMerge($.json1, $.json2, true)`, ``, ErrFailure},
		{`States.Format('{} {}', 1)`, ``, ErrFailure},
		{`States.ArrayGetItem($.inputArray, 50)`, ``, ErrFailure},
	}
	in, c := decode(t, input), decode(t, ctx)
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			call, err := Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := call.Eval(in, c)
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

func TestUUID(t *testing.T) {
	v, err := (&Call{name: "States.UUID"}).Eval(nil, nil)
	if err != nil || len(v.(string)) != 36 || v.(string)[14] != '4' {
		t.Fatalf("UUID = %v, %v", v, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"States.Nope()", "States.Format(", "States.MathAdd(1)", "States.Format('x'", "States.Array(1,,2)", "States.Array(abc)", "States.UUID() x", "States.Format('a', $.)"} {
		t.Run(s, func(t *testing.T) {
			if _, err := Parse(s); !errors.Is(err, ErrSyntax) {
				t.Errorf("err = %v, want ErrSyntax", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"States.Format('a {} b', $.x)", "States.Array(1, 'x', true, null, $$.Execution.Id)", "States.MathAdd(States.ArrayLength($.a), -1)", `States.Format('\{\}\'')`} {
		f.Add(s)
	}
	in := decode(f, `{"x":"y","a":[1,2]}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		_, _ = c.Eval(in, in)
	})
}
