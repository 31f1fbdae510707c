// Package webhook verifies and parses git hosts' webhook deliveries —
// GitHub, GitLab, Bitbucket Cloud and Gitea/Forgejo — from the raw body and
// headers (not an *http.Request, so API Gateway events and local HTTP share
// it) into normalized push.Push values.
//
// Parse detects the provider from the headers (Gitea/Forgejo headers win
// over the GitHub-style ones Gitea also sends), checks the content type,
// verifies the signature or token in constant time (HMAC-SHA256 only), and
// decodes only the fields a pipeline needs. Deliveries that are not pushes
// (pings, test and diagnostic events, other event types) are not errors:
// they come back with no pushes and a reason in Delivery.Ignored.
//
// Errors wrap one of the sentinels (ErrUnknownProvider,
// ErrUnsupportedContentType, ErrMissingSignature, ErrBadSignature,
// ErrMalformed), which the HTTP handler maps to a status.
package webhook
