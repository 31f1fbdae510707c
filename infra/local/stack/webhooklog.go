package stack

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/pushline/pushline/shared/webhook"
)

// accepted wraps the webhook handler to print one line per delivery.
func (s *Stack) accepted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		line := strings.TrimSpace(rec.body.String())
		s.console.printf("webhook %s %d %s", delivery(r.Header), rec.code, clip(line, 300))
	})
}

// delivery names a webhook delivery for the console: the provider's event
// and, when it sends one, its delivery id ("push 72d3162e-…").
func delivery(h http.Header) string {
	ev, id := webhook.EventName(h), webhook.DeliveryID(h)
	if ev == "" {
		ev = "(no event header)"
	}
	if id == "" {
		return clip(ev, 60)
	}
	return clip(ev, 60) + " " + clip(id, 60)
}

type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.body.Len() < 4096 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}
