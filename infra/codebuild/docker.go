package codebuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// dockerCheckTimeout bounds how long a privileged build waits for the
// Docker engine to answer.
const dockerCheckTimeout = 15 * time.Second

// privileged reports whether the build runs in privileged mode: its project
// says so (Options.Projects) or StartBuild's PrivilegedModeOverride does.
func (x *execution) privileged() bool { return privileged(&x.in, x.r.o.Projects) }

func privileged(in *StartBuildInput, projects map[string]Project) bool {
	if in.PrivilegedModeOverride != nil {
		return *in.PrivilegedModeOverride
	}
	return projects[in.ProjectName].Privileged
}

// checkDocker makes sure a privileged build has a working Docker engine (the
// host's: locally, privileged mode means using the host's Docker, not one
// inside the build) and says which; otherwise it says clearly why not.
func (x *execution) checkDocker() error {
	docker, err := exec.LookPath("docker")
	if err != nil {
		return errors.New("privileged mode needs Docker, and there is no docker command here: install Docker (the engine, not only the client) or drop privileged from the stage")
	}
	ctx, cancel := context.WithTimeout(x.ctx, dockerCheckTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}")
	cmd.Env = x.buildEnv()
	out, err := cmd.CombinedOutput()
	version := strings.TrimSpace(string(out))
	if err != nil || version == "" {
		why := firstLine(version, 300)
		if why == "" && err != nil {
			why = err.Error()
		}
		return fmt.Errorf("privileged mode needs a working Docker engine, and %s info found none: %s", docker, why)
	}
	x.message(fmt.Sprintf("Privileged mode: using the host's Docker engine %s", firstLine(version, 40)))
	return nil
}

// dockerSocket is the host's Docker socket a sandboxed privileged build
// needs bound, if it is a local one.
func dockerSocket(env []string) string {
	host := "unix:///var/run/docker.sock"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DOCKER_HOST="); ok && v != "" {
			host = v
		}
	}
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return ""
	}
	if _, err := os.Stat(sock); err != nil {
		return ""
	}
	return sock
}

// checkPrivileged checks Docker for a privileged build (nil for others).
func (x *execution) checkPrivileged() error {
	if !x.privileged() {
		return nil
	}
	return x.checkDocker()
}
