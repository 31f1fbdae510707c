// Package codedeploy is the local CodeDeploy: deployments of a revision
// bundle (a zip holding appspec.yml, in the local S3) to a deployment
// group's one local instance, applied by a local agent as the CodeDeploy
// agent applies them on an EC2 or on-premises instance, in place.
//
// The agent runs CodeDeploy's lifecycle events in order: ApplicationStop
// (the scripts of the last revision that succeeded), DownloadBundle,
// BeforeInstall, Install (the files of the previous install removed, the
// AppSpec files copied under the instance's root with file_exists_behavior,
// then permissions), AfterInstall, ApplicationStart, ValidateService. Each
// script runs with CodeDeploy's environment (LIFECYCLE_EVENT,
// DEPLOYMENT_ID, APPLICATION_NAME, DEPLOYMENT_GROUP_NAME,
// DEPLOYMENT_GROUP_ID) plus PUSHLINE_DEPLOY_ROOT, in its own process group,
// killed at its timeout; its output is kept per event (LogPath) and its
// tail in the event's Diagnostics. The first failing event fails the
// deployment with an error naming it; when the group rolls back on failure
// (the default locally), the last successful revision is redeployed as a
// new deployment (creator codeDeployRollback), restoring its files.
//
// Service mirrors the API: CreateDeployment (one active deployment per
// group, DeploymentLimitExceededException otherwise), GetDeployment,
// StopDeployment, ListDeploymentTargets and GetDeploymentTarget, served
// over CodeDeploy's JSON protocol by Handler and to Step Functions' AWS SDK
// integration by Call. Deployments are kept on disk under Options.Dir; one
// in progress when the process stopped is failed on Open.
package codedeploy
