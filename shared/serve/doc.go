// Package serve runs a function's handler: under AWS Lambda
// (AWS_LAMBDA_RUNTIME_API set) as an API Gateway REST API (v1) proxy
// integration, otherwise as a plain HTTP server on PUSHLINE_HTTP_ADDR with
// a graceful stop on SIGINT/SIGTERM. It also installs the process's slog
// handler: JSON under Lambda, text otherwise.
package serve
