// Package codebuild is the local CodeBuild runner: it runs CodeBuild builds
// (buildspec version 0.2) on this machine, without containers, the way the
// local stack's Step Functions engine needs for codebuild:startBuild.sync.
//
// # API
//
//	r := codebuild.New(codebuild.Options{
//		Dir:         filepath.Join(dataDir, "builds"), // records, logs, work folders
//		Objects:     objects,                           // source zips in, artifacts out
//		Log:         os.Stdout,                         // live output, "[<project>:<PHASE>] " per line
//		Logger:      slog.Default(),
//		Region:      "us-east-1", Account: "000000000000",
//		LogsBaseURL: "http://127.0.0.1:8080/builds/",   // + build id = Build.Logs.DeepLink
//	})
//	defer r.Close()                                     // kills every running build's process group
//	b, err := r.StartBuild(ctx, in)                     // in decodes from the task's Parameters; b is IN_PROGRESS
//	b, err = r.Wait(ctx, b.Id)                          // until the build ends
//	out, _ := b.Output()                                // task result {"Build": …} on success
//	errName, cause := b.Failure()                       // "States.TaskFailed", {"Build": …} otherwise
//	r.StopBuild(ctx, id); r.BatchGetBuilds(ids); r.ListBuilds(project); r.LogPath(id)
//	http.Handle("/", r.Handler())                       // CodeBuild JSON API (X-Amz-Target CodeBuild_20161006.*); IsAPIRequest(req) routes
//	http.Handle("/builds/", http.StripPrefix("/builds", r.LogHandler())) // GET /builds/<id>: the log as text
//
// StartBuildInput decodes straight from the Step Functions codebuild:startBuild
// Parameters (PascalCase) or the CodeBuild API request (camelCase). Build's
// encoding/json form is the PascalCase object Step Functions returns (times
// in epoch milliseconds); Build.APIJSON is the CodeBuild API's camelCase
// form (times in epoch seconds). Objects is consumer-owned: Get and Put of one
// object; S3Objects{Client: s3Client} adapts an *s3.Client.
//
// # Builds
//
// Each build gets <Dir>/<build id>/ holding build.json (the record, rewritten
// at each phase change, so BatchGetBuilds answers after a restart), build.log
// (CodeBuild-style: "[Container] <time> Running command …" lines and the
// commands' output) and, while it runs, src/ (the source zip unpacked, file
// modes and symbolic links kept; CODEBUILD_SRC_DIR), tmp/ (TMPDIR) and ctl/
// (the runner's command files); KeepWorkDirs keeps them after the build.
// Each SecondarySourcesOverride entry (S3 zips only) is unpacked in
// DOWNLOAD_SOURCE at inputs/<SourceIdentifier>/ and named by
// CODEBUILD_SRC_DIR_<SourceIdentifier>; a missing object fails
// DOWNLOAD_SOURCE (CLIENT_ERROR, naming the source) before any phase.
//
// Builds run at once unless Options.MaxRunning bounds them; the others wait
// in QUEUED.
//
// Phases are CodeBuild's: SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE,
// INSTALL, PRE_BUILD, BUILD, POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING,
// COMPLETED, each with its status (SUCCEEDED, FAILED, FAULT, TIMED_OUT,
// STOPPED), duration and a context (status code and message) when it fails.
// A missing or bad buildspec fails DOWNLOAD_SOURCE with YAML_FILE_ERROR and a
// message naming the file and line. A failing command fails its phase
// (COMMAND_EXECUTION_ERROR); the phase's other commands are skipped, its
// finally commands run. A phase with finally or on-failure but no commands is
// an invalid buildspec (YAML_FILE_ERROR before any command). Without
// on-failure, a failed INSTALL, PRE_BUILD or POST_BUILD ends the build and a
// failed BUILD goes on to POST_BUILD (with CODEBUILD_BUILD_SUCCEEDING=0) and
// UPLOAD_ARTIFACTS, as CodeBuild does. An explicit on-failure ABORT aborts
// the build: no later phase runs, not even UPLOAD_ARTIFACTS. With CONTINUE the
// next phases run, and the build still ends FAILED. CODEBUILD_BUILD_SUCCEEDING
// is 0 from the phase after the first failure on (the failing phase's own
// finally commands still see 1).
//
// All the commands of a build run in one shell session (bash unless
// env.shell is sh): one shell process reads command numbers on fd 4, sources
// each command's file in the current shell (so cd, exported and plain
// variables carry over between commands and phases) and reports the exit
// status on fd 3. A command that ends the shell (exit N, set -e) fails its
// phase with status N like any failing command (exit 0 succeeds); the
// shell's EXIT trap saves its variables (bash: all that are not readonly; sh:
// the exported ones) and working directory, and the next shell restores them,
// so later commands (finally, post_build) carry on where it stopped. A
// command that replaces the EXIT trap loses that.
//
// The shell leads its own process group (Setpgid; Pdeathsig kills it if the
// runner's thread dies) and, on Linux, is PID 1 of its own PID namespace (a
// user namespace too when the runner is not root; without either, a warning
// and no namespace), so the kernel kills everything the build started when it
// dies: nothing outlives a SIGKILL of the stack. Inside, $! and $$ are the
// namespace's pids (proc_linux.go; proc_unix.go elsewhere: the group only). The timeout (TimeoutInMinutesOverride, default 60),
// StopBuild and Close kill the whole group, which ends the build TIMED_OUT,
// STOPPED or FAULT. The group is killed at the end of every build too, so
// nothing a build left in the background survives it (unless it left the
// group with setsid). On New, builds a killed process left IN_PROGRESS are
// ended FAULT with a BUILD_INTERRUPTED phase context saying the local stack
// restarted, and any process still carrying their CODEBUILD_BUILD_ID is killed.
//
// # Sandbox
//
// With Options.Bwrap (FindBwrap: Debian's bubblewrap), each build's shell runs
// under bwrap (sandbox.go): the host read-only, fresh /dev, /proc and a
// private /tmp, Options.Writable bound read-write, Dir and Options.Hide
// hidden behind empty folders (so no build sees states.db, the webhook
// secret, the approval key, the outbox or another build), then its own
// folder (source, inputs, TMPDIR, HOME=<build>/home) and its cache
// read-write; its own PID and IPC namespaces, no capabilities, the network
// shared (Options.NoNetwork: a loopback of its own), killed with the runner. Without it builds run unconfined (New
// warns) and StartBuildInput.Untrusted builds are refused with ErrNoSandbox.
//
// The environment is the host's (minus PUSHLINE_* and CODEBUILD_* variables),
// then the buildspec's env.variables, then EnvironmentVariablesOverride
// (PLAINTEXT only), then CodeBuild's: AWS_REGION, AWS_DEFAULT_REGION,
// CODEBUILD_BUILD_ARN, CODEBUILD_BUILD_ID, CODEBUILD_BUILD_IMAGE ("local"),
// CODEBUILD_BUILD_NUMBER, CODEBUILD_BUILD_SUCCEEDING, CODEBUILD_CI,
// CODEBUILD_INITIATOR, CODEBUILD_LOG_PATH, CODEBUILD_PROJECT_ARN,
// CODEBUILD_RESOLVED_SOURCE_VERSION, CODEBUILD_SOURCE_REPO_URL,
// CODEBUILD_SOURCE_VERSION, CODEBUILD_SRC_DIR, CODEBUILD_START_TIME.
// env.exported-variables are read from the shell after POST_BUILD into
// Build.ExportedEnvironmentVariables.
//
// Artifacts: the buildspec's files globs (* and ? within a path segment, **
// across; a plain directory name takes the directory) under base-directory
// (itself a pattern when it has wildcards: every matching directory is a base,
// as in the reference's "my-build*" example),
// minus exclude-paths, flattened by discard-paths, are zipped (Packaging ZIP,
// modes kept) and Put to <Location>/<Path>/<Name> (BUILD_ID namespace adds the
// build's uuid), or Put one by one (Packaging NONE). Build.Artifacts.Location
// is set from the start; Sha256sum and Md5sum only once a ZIP is uploaded. The buildspec's
// artifacts name replaces Name when OverrideArtifactName is set, evaluated in
// the build's shell ($VARS and $(commands) expand), as in CodeBuild. Build.Artifacts.Location
// is "arn:aws:s3:::<bucket>/<key>". No matching file fails UPLOAD_ARTIFACTS
// ("no matching artifact paths found").
//
// # Cache
//
// cache.paths (a folder, or folder/**/*; $VARS expand from the build's
// environment; relative to CODEBUILD_SRC_DIR) that lie in the build's folder
// (source, inputs, TMPDIR, the sandbox's HOME) are kept per project in
// <Dir>/_cache/<project>.tar: restored at the end of DOWNLOAD_SOURCE, before
// the first phase, and saved in UPLOAD_ARTIFACTS when the build has
// succeeded, written to a temporary file and renamed, so that concurrent
// builds of a project never leave a torn cache (the last one wins). Other
// paths are listed in the log and not cached.
//
// # Test reports
//
// After POST_BUILD, each reports entry's files (globs under base-directory,
// itself possibly a pattern) are parsed by package testreport (JUNITXML,
// CUCUMBERJSON, TESTNGXML, NUNITXML, NUNIT3XML; other formats are listed in
// the log and skipped) into a Report named <project>-<name>: SUCCEEDED,
// FAILED (a test failed or errored) or INCOMPLETE (a file did not parse),
// with its TestSummary and test cases. Reports go to <build>/reports.json
// and Build.ReportArns; Runner.Reports(id) returns them, the API answers
// BatchGetReports and DescribeTestCases. When the build failed, a
// TEST_FAILURES context naming the failing tests and their messages comes
// first in its failed phase's contexts, so it is in the task's failure cause
// and what reads the failed phase's message (the run page) shows it.
//
// # Privileged mode
//
// A build whose project is Privileged (Options.Projects) or that has
// PrivilegedModeOverride true (Environment.PrivilegedMode) uses the host's
// Docker engine: PROVISIONING runs `docker info` and fails (CLIENT_ERROR)
// saying there is no docker command or no working engine; in the sandbox the
// engine's local socket (DOCKER_HOST, default /var/run/docker.sock) is bound
// in. Locally this is the host's Docker, not one inside the build: images and
// containers the build makes outlive it.
//
// # Secrets
//
// env.secrets-manager (VAR: secret-id:json-key:version-stage:version-id, as
// in CodeBuild; only the current version locally), env.parameter-store (VAR:
// name) and SECRETS_MANAGER / PARAMETER_STORE environment variable overrides
// are read in DOWNLOAD_SOURCE from Options.SecretsFile, a JSON object of
// {"<secret id or parameter name>": "<value>"} (a secret holding JSON is
// read by json-key). Only the names Options.Projects lists for the build's
// project may be read (an ARN matches its listed name); an unlisted or
// missing secret, or any secret for an Untrusted build, fails DOWNLOAD_SOURCE
// (SECRETS_MANAGER_ERROR or PARAMETER_STORE_ERROR) naming the variable and
// the secret, before any phase. Values are masked ("***", and each line of a
// multi-line value) in the log, the console, phase messages and exported
// variables; a secret variable is never exported.
//
// Not supported locally (a clear failure, not silence): source types other
// than S3 and NO_SOURCE. Accepted and ignored (listed in the log): run-as,
// proxy, batch, runtime-versions, secondary artifacts, cache key and
// fallback-keys (one cache per project locally).
package codebuild
