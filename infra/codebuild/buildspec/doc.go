// Package buildspec parses CodeBuild buildspec files (version 0.2) as the local
// runner executes them.
//
// Parse validates the whole file and reports the first problem as an *Error
// that names the file and the line ("buildspec.yml:7: phases.build.commands[1]
// must be a string (quote it: it contains ': ')"). It keeps every command's line
// so the runner can say where a failing command came from.
//
// Supported: version 0.2; env.shell (bash, sh), env.variables,
// env.exported-variables; phases install, pre_build, build, post_build with
// commands, finally and on-failure (ABORT, CONTINUE); artifacts files,
// name, base-directory, discard-paths, exclude-paths. env.parameter-store and
// env.secrets-manager are refused ("not supported by the local runner").
// Keys the local runner has no use for (run-as, proxy, reports, cache, batch,
// runtime-versions, enable-symlinks, s3-prefix, secondary-artifacts,
// git-credential-helper) are accepted and listed in Spec.Ignored.
package buildspec
