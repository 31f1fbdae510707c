// Command asl prints the state machine definition generated from the
// current pipeline config (config.Load: PUSHLINE_CONFIG_JSON,
// PUSHLINE_CONFIG, or cdk.json's context) on stdout — nothing else — or the
// config's errors on stderr and exits 1. `make -s asl` runs it.
package main
