package hook

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/pushline/pushline/shared/push"
)

// MaxFiles bounds the changed files a delivery lists (GitHub's own cap);
// beyond it the list is marked incomplete.
const MaxFiles = 3000

// Main is the hidden `pushline hook deliver` command the hook runs: args
// are its flags, stdin git's post-receive input ("<old> <new> <ref>" a
// line), messages go to stderr. It always returns 0: a push has happened
// whatever the local stack says.
func Main(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	fs := flag.NewFlagSet("hook deliver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Provider, "provider", "", "the repository's provider")
	fs.StringVar(&o.Repository, "repository", "", "the repository's name in the config")
	fs.StringVar(&o.HTTPURL, "http", "", "the local stack's HTTP address")
	fs.StringVar(&o.SecretFile, "secret-file", "", "the file holding the webhook secret")
	if err := fs.Parse(args); err != nil {
		return 0
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "pushline: %v; the push was not delivered\n", err)
		return 0
	}
	d := &deliverer{o: o, out: stderr, client: &http.Client{Timeout: 30 * time.Second}, git: gitIn(".")}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		d.deliver(ctx, refUpdate{old: f[0], new: f[1], ref: f[2]})
	}
	return 0
}

type refUpdate struct{ old, new, ref string }

type deliverer struct {
	o      Options
	out    io.Writer
	client *http.Client
	git    func(ctx context.Context, args ...string) ([]byte, error)
}

// gitIn runs git in dir (the hook's cwd, the bare repository).
func gitIn(dir string) func(ctx context.Context, args ...string) ([]byte, error) {
	return func(ctx context.Context, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
}

// update is what a delivery says about one ref update.
type update struct {
	refUpdate
	branch, tag string
	head        push.Commit
	commits     int // new commits (0: none, e.g. a branch created at an existing commit)
	files       []string
	complete    bool
}

func (d *deliverer) deliver(ctx context.Context, r refUpdate) {
	u := update{refUpdate: r}
	switch {
	case strings.HasPrefix(r.ref, "refs/heads/"):
		u.branch = strings.TrimPrefix(r.ref, "refs/heads/")
	case strings.HasPrefix(r.ref, "refs/tags/"):
		u.tag = strings.TrimPrefix(r.ref, "refs/tags/")
	default:
		return // notes, pull refs, …: no provider sends those as pushes
	}
	if r.new != push.ZeroCommit {
		if err := d.describe(ctx, &u); err != nil {
			fmt.Fprintf(d.out, "pushline: %s: %v; delivering without the commit's details\n", r.ref, err)
		}
	}
	req, err := d.request(ctx, u)
	if err != nil {
		fmt.Fprintf(d.out, "pushline: %s: %v; not delivered\n", r.ref, err)
		return
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if isDown(err) {
			fmt.Fprintf(d.out, "pushline: the local stack is not running at %s: %s not delivered (start it with `make local` and push again)\n", d.o.HTTPURL, r.ref)
		} else {
			fmt.Fprintf(d.out, "pushline: %s not delivered: %v\n", r.ref, err)
		}
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(d.out, "pushline: %s %s → %d %s\n", r.ref, short(r.new), resp.StatusCode, strings.TrimSpace(string(body)))
}

func isDown(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH)
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// describe reads the head commit and the files of the pushed commits.
func (d *deliverer) describe(ctx context.Context, u *update) error {
	out, err := d.git(ctx, "log", "-1", "--format=%an%x00%ae%x00%aI%x00%B", u.new, "--")
	if err != nil {
		return err
	}
	parts := strings.SplitN(string(out), "\x00", 4)
	if len(parts) != 4 {
		return errors.New("unexpected git log output")
	}
	ts, _ := time.Parse(time.RFC3339, parts[2])
	u.head = push.Commit{ID: u.new, Author: parts[0] + " <" + parts[1] + ">", Timestamp: ts, Message: strings.TrimRight(parts[3], "\n")}
	// The new commits: old..new, or for a new ref those no other ref holds.
	rng := []string{u.new, "--not", "--exclude=" + u.ref, "--branches", "--tags"}
	if u.old != push.ZeroCommit {
		rng = []string{u.old + ".." + u.new}
	}
	out, err = d.git(ctx, append([]string{"rev-list", "--count"}, rng...)...)
	if err != nil {
		return err
	}
	fmt.Sscanf(string(out), "%d", &u.commits)
	if u.commits == 0 {
		return nil
	}
	out, err = d.git(ctx, append([]string{"log", "--name-only", "--no-renames", "--format=", "-z"}, rng...)...)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	u.complete = true
	for _, f := range bytes.Split(out, []byte{0}) {
		name := strings.TrimSpace(string(f))
		if name == "" || seen[name] {
			continue
		}
		if len(u.files) == MaxFiles {
			u.complete = false
			break
		}
		seen[name] = true
		u.files = append(u.files, name)
	}
	return nil
}

// secret is the webhook secret: PUSHLINE_WEBHOOK_SECRET, else the file.
func (d *deliverer) secret() ([]byte, error) {
	if s := os.Getenv("PUSHLINE_WEBHOOK_SECRET"); s != "" {
		return []byte(s), nil
	}
	b, err := os.ReadFile(d.o.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("read the webhook secret: %w (is the local stack's data dir %s?)", err, d.o.SecretFile)
	}
	return bytes.TrimSpace(b), nil
}
