package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is one JSON value, decoded with object keys in order so that
// duplicate keys can be reported.
type node struct {
	kind   kind
	str    string // string value, or number text
	b      bool
	keys   []string // object keys, in order
	fields map[string]*node
	items  []*node // array items
}

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// maxDepth bounds nesting; the config needs 4 levels.
const maxDepth = 32

// decodeTree decodes exactly one JSON value. Duplicate object keys are
// reported through dup (path of the duplicate).
func decodeTree(data []byte, dup func(path string)) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := decodeValue(dec, "", 0, dup)
	if err != nil {
		return nil, syntaxError(data, dec, err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		for end < int64(len(data)) && strings.ContainsRune(" \t\r\n", rune(data[end])) {
			end++
		}
		return nil, fmt.Errorf("invalid JSON at %s: unexpected data after the JSON object", lineCol(data, end))
	}
	return n, nil
}

func syntaxError(data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("unexpected end of JSON")
		off = int64(len(data))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return fmt.Errorf("invalid JSON at %s: %s", lineCol(data, off), msg)
}

func lineCol(data []byte, off int64) string {
	line, col := 1, 1
	for _, c := range data[:min(int(off), len(data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

func decodeValue(dec *json.Decoder, path string, depth int, dup func(string)) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kNull}, nil
	case bool:
		return &node{kind: kBool, b: t}, nil
	case json.Number:
		return &node{kind: kNumber, str: t.String()}, nil
	case string:
		return &node{kind: kString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: kArray}
			for dec.More() {
				item, err := decodeValue(dec, fmt.Sprintf("%s[%d]", path, len(n.items)), depth+1, dup)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, item)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '{':
			n := &node{kind: kObject, fields: map[string]*node{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				kp := keyPath(path, key)
				v, err := decodeValue(dec, kp, depth+1, dup)
				if err != nil {
					return nil, err
				}
				if _, ok := n.fields[key]; ok {
					dup(kp)
					continue
				}
				n.keys = append(n.keys, key)
				n.fields[key] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
