package config

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in JSON as a Go duration string
// ("30m", "72h", "1h30m") or a whole number of days ("7d").
type Duration struct{ time.Duration }

// Errors of ParseDuration.
var (
	errNotDuration = errors.New("not a duration")
	// ErrDurationRange: s is written as a duration but too large to hold
	// ("9999999999h", "70000d").
	ErrDurationRange = errors.New("duration out of range")
)

// ParseDuration parses a Go duration string or a whole number of days
// ("7d"). A duration too large for time.Duration is ErrDurationRange.
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" {
		n, err := strconv.ParseUint(days, 10, 16)
		if errors.Is(err, strconv.ErrRange) || err != nil && strings.HasPrefix(days, "-") && isDigits(days[1:]) {
			return 0, ErrDurationRange // too many days, or negative
		}
		if err != nil {
			return 0, errNotDuration
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if goDuration.MatchString(s) {
			return 0, ErrDurationRange // well formed: it overflowed
		}
		return 0, errNotDuration
	}
	return d, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// goDuration is the syntax time.ParseDuration accepts.
var goDuration = regexp.MustCompile(`^[-+]?(?:0|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)$`)

// String writes d compactly: "30m", "72h", "1h30m", "45s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalJSON writes d as a string (see String).
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a duration string (see ParseDuration).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("a duration must be a string such as \"30m\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}
