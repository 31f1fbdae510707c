package appspec

import (
	"fmt"
	"io/fs"
	"time"
)

// The scriptable lifecycle events of an in-place deployment. The
// traffic events run only with a load balancer; the local agent has none.
const (
	ApplicationStop    = "ApplicationStop"
	BeforeBlockTraffic = "BeforeBlockTraffic"
	AfterBlockTraffic  = "AfterBlockTraffic"
	BeforeInstall      = "BeforeInstall"
	AfterInstall       = "AfterInstall"
	ApplicationStart   = "ApplicationStart"
	ValidateService    = "ValidateService"
	BeforeAllowTraffic = "BeforeAllowTraffic"
	AfterAllowTraffic  = "AfterAllowTraffic"
)

// Events are the scriptable lifecycle events in the order CodeDeploy runs
// them in an in-place deployment (ApplicationStop runs the previous
// revision's script; Install, between BeforeInstall and AfterInstall,
// copies the files).
var Events = []string{
	ApplicationStop, BeforeBlockTraffic, AfterBlockTraffic, BeforeInstall,
	AfterInstall, ApplicationStart, ValidateService, BeforeAllowTraffic, AfterAllowTraffic,
}

// reserved are lifecycle events CodeDeploy runs itself; a script cannot be
// attached to them.
var reserved = map[string]bool{
	"Start": true, "DownloadBundle": true, "Install": true, "BlockTraffic": true,
	"AllowTraffic": true, "End": true,
}

// Limits from CodeDeploy's reference.
const (
	// DefaultTimeout is a script's timeout when it gives none.
	DefaultTimeout = 3600 * time.Second
	// MaxEventTimeout bounds the sum of one event's script timeouts.
	MaxEventTimeout = 3600 * time.Second
)

// file_exists_behavior values.
const (
	Disallow  = "DISALLOW" // the default: a deployment fails on a file it did not put there
	Overwrite = "OVERWRITE"
	Retain    = "RETAIN"
)

// Operating systems.
const (
	Linux   = "linux"
	Windows = "windows"
)

// Spec is a parsed AppSpec file.
type Spec struct {
	Version            string // "0.0"
	OS                 string // Linux or Windows
	Files              []File
	FileExistsBehavior string // Disallow (default), Overwrite or Retain
	Permissions        []Permission
	// Hooks maps a lifecycle event (one of Events) to its scripts, in file
	// order.
	Hooks map[string][]Script
	// Ignored lists keys accepted without local effect, e.g.
	// "permissions[0].acls (line 12)".
	Ignored []string
}

// File is one files entry: Source (a file or directory of the revision,
// "/" for all of it) is copied to Destination.
type File struct {
	Source      string
	Destination string
	Line        int
}

// Permission is one permissions entry.
type Permission struct {
	Object  string   // a path on the instance
	Pattern string   // a glob; "**" (the default) for everything under Object
	Except  []string // patterns exempted
	Owner   string
	Group   string
	Mode    fs.FileMode // valid when HasMode
	HasMode bool
	// Type lists what the entry applies to: "file", "directory"; empty
	// means both.
	Type []string
	Line int
}

// Script is one hook script.
type Script struct {
	Location string // a path in the revision
	Timeout  time.Duration
	RunAs    string // a user; empty: the agent's user
	Line     int
}

// Error is a problem in an AppSpec file, at a line when one is known.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
