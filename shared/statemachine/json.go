package statemachine

import (
	"bytes"
	"encoding/json"
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

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encode(&b, e.k); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encode(&b, e.v); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func encode(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// marshal writes v indented by two spaces, without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
