// Package source is the pipeline's source step: it snapshots exactly the
// pushed commit into source.zip in the artifact bucket, for CodeBuild to use
// as an S3 source.
//
// Where the commit comes from:
//
//   - A push whose cloneUrl is a file:// URL or a local path (the local
//     stack and the demo) is read with the git binary: `git archive` of the
//     commit. A commit the repository does not hold fails with
//     ErrCommitNotFound.
//   - A codecommit push (without a local cloneUrl) is read through
//     CodeCommit's API, GetFolder and GetFile, file by file (codecommit.go
//     says why not git over HTTPS).
//   - Otherwise the provider's archive API is fetched over HTTPS (in Lambda
//     there is no git binary): GitHub GET {api}/repos/{owner}/{repo}/tarball/{sha}
//     (api.github.com, or <host>/api/v3 for Enterprise; it answers 302 to
//     codeload), GitLab GET {host}/api/v4/projects/{url-encoded path}/repository/archive.tar.gz?sha={sha},
//     Bitbucket Cloud GET https://bitbucket.org/{workspace}/{repo}/get/{sha}.tar.gz,
//     Gitea/Forgejo GET {host}/api/v1/repos/{owner}/{repo}/archive/{sha}.tar.gz.
//     The host (and a GitLab/Gitea relative URL root) comes from the push's
//     cloneUrl when it is http(s) (so the config's cloneUrl can point at a
//     mirror or another host), else from its webUrl, else from an ssh
//     cloneUrl's host.
//
// Pull requests: the head commit comes from where the host serves it
// (locate): GitHub, GitLab and Gitea/Forgejo keep every pull request's head
// in the base repository under their pull request refs, so the base's
// archive API serves it by commit id, forks included; Bitbucket Cloud keeps
// a fork's commits only in the fork, so a fork's head is fetched from the
// fork (push.PullRequest.HeadRepository). A local base repository reads a
// local fork (HeadCloneURL file:// or a path) for a fork's head. A config
// cloneUrl that names a mirror must mirror the pull request refs too.
//
// Private repositories: an optional token per provider or per repository
// (Tokens; in AWS the Secrets Manager secret PUSHLINE_PROVIDER_TOKENS_ARN
// holding {"<provider>": "<token>", "<provider>:<repository>": "<token>"},
// the more specific key winning; functions/source also accepts the JSON
// itself in PUSHLINE_PROVIDER_TOKENS, via secret.Lookup). It is sent as each provider documents:
// GitHub "Authorization: Bearer", GitLab "PRIVATE-TOKEN", Gitea
// "Authorization: token", Bitbucket "Authorization: Bearer" for access
// tokens, or Basic when the token is "user:app-password" (it holds a colon).
// Bitbucket's /get/ archive URL is a website URL, not api.bitbucket.org:
// Atlassian documents Bearer access tokens for the API, so for a private
// Bitbucket repository prefer "username:app-password" (or "email:api-token")
// credentials; a refused token fails with ErrUnauthorized.
// A token is never logged and never follows a redirect to another host.
//
// Conversion: the archive (tar.gz, or git archive's tar) is converted to a
// zip while it streams, and the zip streams to S3 in a multipart upload of
// PartSize parts (8 MiB by default; one PutObject when the zip is smaller
// than a part); a part uploads in the background while the next one fills.
// Memory is bounded by two part buffers plus the gzip/flate/tar state
// (about 2 MiB): 18 MiB by default, whatever the repository's size
// (TestLargeArchive: 22 MiB peak Go heap for 200 MiB, 24.5 MiB for 1 GiB,
// its archive generator included). Any failure aborts the
// multipart upload. The single top-level directory of provider archives
// (owner-repo-sha/) is stripped, so files sit at the zip root.
//
// Zip entries: regular files keep git's mode (0755 when executable, else
// 0644, stored as Unix external attributes); symlinks are stored as symlink
// entries (mode 0777|symlink, content = the link target, stored
// uncompressed), exactly as `git archive --format=zip` and `zip -y` store
// them. Info-ZIP unzip restores them as symlinks and the executable bit
// (TestUnzip); an extractor that ignores Unix attributes sees a small file
// holding the target path, which is what CodePipeline's own S3 source
// artifacts are reported to deliver. Whether CodeBuild's source download
// restores the symlink could not be checked here (no AWS account). Links
// are not followed: a link's target may lie outside the repository or not
// exist. Directories are implied by the file paths and get no entries of
// their own (git has no empty directories).
// Like the providers' archives (which are `git archive` too), the snapshot
// honours export-ignore/export-subst attributes, leaves submodules out and
// holds Git LFS pointers rather than LFS content.
//
// Retries: a provider's 429/5xx answers and transport errors are retried
// twice (1 s, 3 s) before any byte is read; a download cut mid-stream starts
// over once with a fresh upload. Handle stops 5 s before its context's
// deadline (Lambda's timeout) so it can still abort the upload and report.
//
// Errors: Handle returns one of RequestError, FetchError, ArchiveError,
// UploadError or TokenError (pointer types). aws-lambda-go reports the type
// name as the Lambda errorType, so the state machine's task error says which
// part failed; errors.Is with the sentinels (ErrNotFound, ErrUnauthorized,
// ErrTruncated, …) gives the reason.
package source
