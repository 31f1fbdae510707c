package approval

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pushline/pushline/shared/serve"
)

// TestAPIGateway runs the handler as functions/approval does under
// Lambda: REST API (v1) proxy events through serve.APIGateway, the stage
// in the browser's URL but not in the event's path.
func TestAPIGateway(t *testing.T) {
	e := newEnv(t, nil)
	h := serve.APIGateway(e.handler)
	const domain = "abc123.execute-api.us-east-1.amazonaws.com"
	u, _ := url.Parse(e.link("ops@example.com"))
	query := map[string][]string{}
	for k, v := range u.Query() {
		query[k] = v
	}
	ev := func(method, body string, hdr map[string][]string) events.APIGatewayProxyRequest {
		return events.APIGatewayProxyRequest{
			HTTPMethod: method, Path: u.Path, Resource: "/approvals/{id}",
			MultiValueQueryStringParameters: query, MultiValueHeaders: hdr, Body: body,
			RequestContext: events.APIGatewayProxyRequestContext{DomainName: domain, Stage: "prod"},
		}
	}
	get, err := h(context.Background(), ev("GET", "", map[string][]string{"Host": {domain}}))
	if err != nil || get.StatusCode != 200 || !strings.Contains(get.Body, `name="token"`) {
		t.Fatalf("GET = %d %v", get.StatusCode, err)
	}
	form := url.Values{"decision": {"approve"}, "comment": {"via API Gateway"}, "token": {e.formToken("ops@example.com")}}.Encode()
	post, err := h(context.Background(), ev("POST", form, map[string][]string{
		"Host": {domain}, "Origin": {"https://" + domain}, "Sec-Fetch-Site": {"same-origin"},
		"Content-Type": {"application/x-www-form-urlencoded"},
	}))
	if err != nil || post.StatusCode != 200 {
		t.Fatalf("POST = %d %v\n%s", post.StatusCode, err, post.Body)
	}
	if len(e.tasks.success) != 1 {
		t.Fatalf("%d SendTaskSuccess", len(e.tasks.success))
	}
	if ct := post.MultiValueHeaders["Content-Type"]; len(ct) != 1 || ct[0] != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %v", ct)
	}
}
