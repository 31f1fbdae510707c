package statemachine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// obj is a JSON object that keeps its keys in the order written, so the
// definition reads top-down in the console and diffs stay small.
type obj []kv

type kv struct {
	k string
	v any
}

// with returns o with k set to v (appended; a generator never sets a key
// twice).
func (o obj) with(k string, v any) obj { return append(o, kv{k, v}) }

// marshal writes v as JSON indented by two spaces, without HTML escaping,
// with a final newline. v holds obj, []obj, []any, []string, string, bool,
// int, int64 and nil.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b, v, "\n"); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func write(b *bytes.Buffer, v any, nl string) error {
	const indent = "  "
	switch t := v.(type) {
	case obj:
		if len(t) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + indent)
			writeString(b, e.k)
			b.WriteString(": ")
			if err := write(b, e.v, nl+indent); err != nil {
				return err
			}
		}
		b.WriteString(nl + "}")
	case []obj:
		return writeList(b, len(t), func(i int) any { return t[i] }, nl)
	case []any:
		return writeList(b, len(t), func(i int) any { return t[i] }, nl)
	case []string:
		return writeList(b, len(t), func(i int) any { return t[i] }, nl)
	case string:
		writeString(b, t)
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case nil:
		b.WriteString("null")
	default:
		return fmt.Errorf("marshal definition: unexpected %T", v)
	}
	return nil
}

func writeList(b *bytes.Buffer, n int, item func(int) any, nl string) error {
	if n == 0 {
		b.WriteString("[]")
		return nil
	}
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(nl + "  ")
		if err := write(b, item(i), nl+"  "); err != nil {
			return err
		}
	}
	b.WriteString(nl + "]")
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}
