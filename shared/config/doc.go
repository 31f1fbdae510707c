// Package config reads and validates the pipeline config: one JSON object,
// by default the "pushline" key of cdk.json's context, or the file named by
// PUSHLINE_CONFIG, or the object in PUSHLINE_CONFIG_JSON. Both the CDK app
// and the local stack read it.
//
// Parse is strict: unknown and duplicate keys, values of the wrong type and
// invalid values are errors, all of them reported at once as Errors, each
// naming its key path ("stages[2].approval.timeout") and what is allowed.
//
// Rules beyond DESIGN.md:
//   - name: 1 to 32 of [a-z0-9-], starting with a letter, not ending with
//     '-' (it becomes part of AWS resource names).
//   - stage names: 1 to 32 of [A-Za-z0-9_-], starting with a letter, unique
//     ignoring case and '-'/'_' (they name states, CodeBuild projects,
//     artifacts and placeholders); "Source" is reserved for the source step,
//     and input: "Source" names the source snapshot explicitly.
//   - build timeout: whole minutes, 5m to 36h (default 60m); approval
//     timeout: whole seconds, 1m to 8760h (default 72h). Durations are Go
//     durations ("1h30m") or whole days ("7d"); a zero, negative or
//     overflowing one is "out of range", not "not a duration".
//   - at most 50 stages; notifications.from is required when there are
//     approval stages or failure recipients.
//   - a stage has exactly one of buildspec (a build), approval, actions
//     (1 to 8 builds that run at the same time) or deploy
//     (deploy.codedeploy: application, deploymentGroup, input). Action
//     names follow the stage name rules and are unique with the stages'.
//   - inputs (at most 12, CodeBuild's secondary sources) name earlier
//     build stages or actions: not approvals, deploys, a stage of actions
//     (name its actions), the build's own stage, or "Source" (the commit
//     is every build's primary source). The deprecated input is rewritten
//     into inputs (input: "Source" is dropped) with a warning in
//     Config.Warnings saying what to write.
//   - secrets: Secrets Manager secret names or ARNs, and SSM parameter
//     names, which start with "/", or ARNs (SecretKind tells them apart).
//   - repositories[].pullRequests.stages name stages (not actions); a
//     stage a pull request runs may not take an artifact from one it
//     skips. apiUrl is https, or http on a loopback host. A codecommit
//     repository is a CodeCommit repository name, without pullRequests
//     or apiUrl.
package config
