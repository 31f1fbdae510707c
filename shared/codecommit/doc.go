// Package codecommit turns CodeCommit's own EventBridge events into pushes
// and starts the pipeline from them, as the webhook does for the other
// providers.
//
// CodeCommit emits "CodeCommit Repository State Change" (source
// aws.codecommit) when a reference changes. referenceCreated and
// referenceUpdated of a branch or a tag become a push.Push (provider
// codecommit, repository = the repository's name); referenceDeleted, and
// every other event, is ignored with a reason. The event carries neither
// the head commit's message nor the changed files, so Handler asks a
// Repository for them (CodeCommit's GetCommit and GetDifferences in AWS;
// the bare repository itself, with git, on the local stack) and then hands
// the push to the same Starter the webhook uses: same triggers, execution
// names, modes and answers. A created ref, or a difference longer than
// MaxFiles, counts as touching every path, as a truncated webhook list does.
package codecommit
