// Package appspec parses a CodeDeploy AppSpec file (appspec.yml) in its
// EC2/on-premises form, per CodeDeploy's AppSpec reference: version 0.0,
// os, files, file_exists_behavior, permissions and hooks.
//
// Every error is an *Error naming the file and, where one is known, the
// line: a YAML syntax error, an unknown key, a missing or invalid value, a
// lifecycle event that cannot be scripted, hook timeouts over the hour
// CodeDeploy allows per event. Keys CodeDeploy accepts that have no local
// effect (acls, context) are listed in Spec.Ignored with their lines.
//
// Events lists the scriptable lifecycle events of an in-place deployment in
// the order the CodeDeploy agent runs them.
package appspec
