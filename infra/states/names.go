package states

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func (e *Engine) smArn(name string) string {
	return "arn:aws:states:" + e.o.Region + ":" + e.o.Account + ":stateMachine:" + name
}

func (e *Engine) execArn(sm, name string) string {
	return "arn:aws:states:" + e.o.Region + ":" + e.o.Account + ":execution:" + sm + ":" + name
}

// validName applies AWS's naming rules for state machines and executions.
func validName(s string) bool {
	if s == "" || len([]rune(s)) > 80 {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) || r <= 0x1f || (r >= 0x7f && r <= 0x9f) {
			return false
		}
	}
	return true
}

func checkExecArn(arn string) error {
	if !strings.HasPrefix(arn, "arn:aws:states:") || !strings.Contains(arn, ":execution:") {
		return apiErr("InvalidArn", "Invalid Arn: '"+arn+"'")
	}
	return nil
}

func pageStart(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	n, err2 := strconv.Atoi(string(b))
	if err != nil || err2 != nil || n < 0 {
		return 0, apiErr("InvalidToken", "Invalid Token: '"+tok+"'")
	}
	return n, nil
}

// checkMaxResults applies AWS's range for a maxResults member (0 to max).
func checkMaxResults(n, max int) error {
	switch {
	case n < 0:
		return apiErr("ValidationException", "1 validation error detected: Value '"+strconv.Itoa(n)+"' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0")
	case n > max:
		return apiErr("ValidationException", "1 validation error detected: Value '"+strconv.Itoa(n)+"' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to "+strconv.Itoa(max))
	}
	return nil
}

func pageSize(n, def, max int) int {
	if n <= 0 {
		return def
	}
	return min(n, max)
}

func fromEpoch(f float64) time.Time {
	if f == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(f*1000 + 0.5)).UTC()
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
