package webhook

import (
	"errors"
	"testing"

	"github.com/pushline/pushline/shared/push"
)

// The 415 answer says which content types the provider may send.
func TestContentTypeMessage(t *testing.T) {
	for _, tt := range []struct {
		provider, ct, want string
		form, ok           bool
	}{
		{push.GitHub, "application/json; charset=utf-8", "", false, true},
		{push.GitHub, "application/x-www-form-urlencoded", "", true, true},
		{push.GitHub, "text/plain", `unsupported content type "text/plain": want application/json or application/x-www-form-urlencoded`, false, false},
		{push.Gitea, "", "unsupported content type: no Content-Type, want application/json or application/x-www-form-urlencoded", false, false},
		{push.GitLab, "application/x-www-form-urlencoded", `unsupported content type "application/x-www-form-urlencoded": want application/json`, false, false},
		{push.Bitbucket, "", "unsupported content type: no Content-Type, want application/json", false, false},
	} {
		t.Run(tt.provider+" "+tt.ct, func(t *testing.T) {
			form, err := contentType(tt.provider, tt.ct)
			if tt.ok {
				if err != nil || form != tt.form {
					t.Fatalf("contentType = %v, %v; want %v, nil", form, err, tt.form)
				}
				return
			}
			if !errors.Is(err, ErrUnsupportedContentType) || err.Error() != tt.want {
				t.Errorf("contentType error = %v, want %q", err, tt.want)
			}
		})
	}
}
