package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Secret kinds (SecretKind).
const (
	SecretsManager = "secretsmanager" // a Secrets Manager secret: a name or an ARN
	Parameter      = "ssm"            // an SSM parameter: a name starting with "/" or an ARN
)

var (
	secretNameRE    = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	parameterNameRE = regexp.MustCompile(`^(/[A-Za-z0-9_.-]+)+$`)
	secretARNRE     = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$`)
	parameterARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9_./-]+$`)
	// An image: a CodeBuild curated image or a registry image, with an
	// optional tag or digest.
	imageRE = regexp.MustCompile(`^[a-z0-9][A-Za-z0-9._/:@-]{0,254}$`)
	// CodeDeploy application and deployment group names.
	codeDeployNameRE = regexp.MustCompile(`^[A-Za-z0-9._+=,@-]{1,100}$`)
)

// SecretKind tells what a secrets entry names: SecretsManager (a secret's
// name or ARN), Parameter (an SSM parameter's name, which must start with
// "/", or ARN), or "" when it is neither.
func SecretKind(s string) string {
	if len(s) > 2048 {
		return ""
	}
	switch {
	case strings.HasPrefix(s, "arn:"):
		if secretARNRE.MatchString(s) {
			return SecretsManager
		}
		if parameterARNRE.MatchString(s) {
			return Parameter
		}
	case strings.HasPrefix(s, "/"):
		if len(s) <= 1011 && parameterNameRE.MatchString(s) {
			return Parameter
		}
	case len(s) <= 512 && secretNameRE.MatchString(s):
		return SecretsManager
	}
	return ""
}

func (v *validator) secrets(p string, list []string) {
	for i, s := range list {
		ip := indexPath(p, i)
		if SecretKind(s) == "" {
			v.add(ip, quote(s)+` is not a secret (allowed: a Secrets Manager secret name such as "prod/db" or its ARN, or an SSM parameter name starting with "/" such as "/app/token" or its ARN)`)
			continue
		}
		for j, o := range list[:i] {
			if o == s {
				v.add(ip, fmt.Sprintf("%s duplicates secrets[%d]", quote(s), j))
				break
			}
		}
	}
}
