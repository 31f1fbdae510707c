package testreport

import (
	"encoding/json"
	"fmt"
	"strings"
)

type cucumberFeature struct {
	Name     string `json:"name"`
	URI      string `json:"uri"`
	Elements []struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Steps []struct {
			Name   string `json:"name"`
			Result struct {
				Status       string `json:"status"`
				Duration     int64  `json:"duration"` // nanoseconds
				ErrorMessage string `json:"error_message"`
			} `json:"result"`
		} `json:"steps"`
	} `json:"elements"`
}

// parseCucumber reads Cucumber JSON: features of scenarios of steps; a
// scenario is one test, failed if a step failed, skipped if a step was
// skipped, pending or undefined.
func parseCucumber(data []byte) ([]Case, error) {
	var features []cucumberFeature
	if err := json.Unmarshal(data, &features); err != nil {
		return nil, fmt.Errorf("cucumber JSON: %w", err)
	}
	var cases []Case
	for _, f := range features {
		prefix := f.Name
		if prefix == "" {
			prefix = f.URI
		}
		for _, e := range f.Elements {
			if e.Type == "background" || len(cases) >= MaxCases {
				continue
			}
			c := Case{Prefix: prefix, Name: e.Name, Status: Succeeded, TestSuiteName: f.URI}
			for _, s := range e.Steps {
				c.DurationInNanoSeconds += max(s.Result.Duration, 0)
				switch strings.ToLower(s.Result.Status) {
				case "failed":
					if c.Status != Failed {
						c.Status, c.Message = Failed, s.Name+": "+s.Result.ErrorMessage
					}
				case "skipped", "pending", "undefined":
					if c.Status == Succeeded {
						c.Status = Skipped
					}
				}
			}
			cases = append(cases, c)
		}
	}
	return cases, nil
}
