// Package secret reads a function's secrets: from an environment variable
// when it is set (local runs), else from the Secrets Manager secret whose
// ARN is in the variable of the same name with an _ARN suffix (AWS).
package secret
