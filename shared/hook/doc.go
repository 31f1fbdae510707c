// Package hook makes a bare git repository on disk a pipeline source for
// the local stack: Install writes a post-receive hook into it that runs
// pushline's hidden `hook deliver` command (Main), which delivers each
// pushed ref to the local stack the way the configured provider would:
//
//   - github, gitlab, bitbucket, gitea: the provider's push webhook,
//     signed with the local stack's webhook secret, POSTed to
//     <http>/webhook;
//   - codecommit: CodeCommit's own EventBridge event ("CodeCommit
//     Repository State Change", referenceCreated / referenceUpdated /
//     referenceDeleted), POSTed to <http>/codecommit, where the local stack
//     plays the EventBridge rule that invokes the codecommit function.
//
// Each delivery carries the head commit (message, author, time) and the
// files the pushed commits changed (git log old..new; for a new ref, the
// commits no other ref holds), as the providers send them. The hook fails
// soft: when the local stack is down, or answers an error, it prints what
// happened (git shows it to the pusher as "remote: …") and git push still
// succeeds.
package hook
