package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium; PUSHLINE_CHROMIUM names another.
func chromiumPath() string {
	if p := os.Getenv("PUSHLINE_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browser starts a headless chromium for the test (a fresh profile) and
// returns a tab. When the test fails, the tab's last screen is saved as
// a PNG in the test's artifact dir (go test -artifacts keeps it), and so
// is every step's when PUSHLINE_SCREENSHOTS names a folder.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("install chromium (apt-get install chromium) or set PUSHLINE_CHROMIUM: the browser tests need it at %s", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 1400),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser: no timeout on this first call
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium %s: %v", path, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			shot(t, ctx, "failed")
		}
		cancel()
		cancelAlloc()
	})
	return ctx
}

// shot saves a full-page screenshot of the tab as <name>.png.
func shot(t *testing.T, ctx context.Context, name string) {
	dirs := []string{t.ArtifactDir()}
	if d := os.Getenv("PUSHLINE_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	} else if name != "failed" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	for _, d := range dirs {
		f := filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".png")
		if err := os.WriteFile(f, png, 0o644); err == nil {
			t.Logf("screenshot: %s", f)
		}
	}
}

// TestRunPageInBrowser opens the console, follows a run page while the
// build runs (it updates in place, without a reload), and retries the
// failed run with the button.
func TestRunPageInBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := browser(t)
	b, cancelB := context.WithTimeout(b, 4*time.Minute)
	defer cancelB()
	p, name := startFlaky(t, ctx, 4)

	// The console lists the run and links its page.
	link := `a[href^="runs/` + name + `"]`
	if err := chromedp.Do(b, chromedp.Navigate(p.HTTP+"/"), chromedp.WaitVisible(link)); err != nil {
		t.Fatalf("console: %v", err)
	}
	shot(t, b, "console")
	title, _ := chromedp.Run(b, chromedp.Title())
	text, _ := chromedp.Run(b, chromedp.Text(link))
	if !strings.Contains(title, "runs runs") || text != "Add a flaky test" {
		t.Errorf("console: title %q, link %q", title, text)
	}

	// The run page, followed live: Test runs, then fails, on the same page.
	if err := chromedp.Do(b,
		chromedp.Click(link),
		chromedp.WaitVisible(`#stage-Test .b-running`),
		chromedp.Evaluate[chromedp.Void](`window.__noReload = true`),
	); err != nil {
		t.Fatalf("run page while Test runs: %v\n%s", err, p.out)
	}
	// The build's log shows inline while it runs (it sleeps $SLOW after
	// printing its 40 lines).
	if err := waitJS(b, `document.getElementById("live").dataset.status === "RUNNING" && `+
		`(document.getElementById("log-Test") || {textContent: ""}).textContent.includes("test 40 ok")`); err != nil {
		t.Fatalf("no live log while Test runs: %v\n%s", err, p.out)
	}
	shot(t, b, "running")
	if err := chromedp.Do(b,
		chromedp.WaitVisible(`#live[data-status="FAILED"]`),
		chromedp.WaitVisible(`#stage-Test .b-failed`),
	); err != nil {
		t.Fatalf("run page after the failure: %v\n%s", err, p.out)
	}
	marker, _ := chromedp.Run(b, chromedp.Evaluate[bool](`window.__noReload === true`))
	log, _ := chromedp.Run(b, chromedp.TextContent(`#log-Test`))
	shot(t, b, "failed-run")
	if !marker {
		t.Error("the page reloaded instead of updating in place")
	}
	if !strings.Contains(log, "flaky test failed") || !strings.Contains(log, "test 40 ok") {
		t.Errorf("the inline log lacks the failure:\n%s", log)
	}
	cause, _ := chromedp.Run(b, chromedp.Text(`.cause`))
	if !strings.Contains(cause, "Test:") || !strings.Contains(cause, "ended FAILED") {
		t.Errorf("cause %q", cause)
	}

	// Retry with the button: a new run, attempt 2, that succeeds.
	if err := chromedp.Do(b, chromedp.Click(`form[action$="/retry"] button`)); err != nil {
		t.Fatalf("retry: %v\n%s", err, p.out)
	}
	// The POST answers 303 to the new run's page.
	var loc string
	for deadline := time.Now().Add(time.Minute); !strings.Contains(loc, "-r2") && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		loc, _ = chromedp.Run(b, chromedp.Location())
	}
	// After the form POST chromedp's DOM queries wait forever (it loses
	// track of the navigated frame); scripts still run, so poll with them.
	if err := waitJS(b, `document.querySelector(".notice") !== null`); err != nil {
		t.Fatalf("after Retry (at %s): no notice: %v\n%s", loc, err, p.out)
	}
	notice, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector(".notice").innerText`))
	if err := waitJS(b, `document.getElementById("live").dataset.status === "SUCCEEDED"`); err != nil {
		t.Fatalf("the retry did not succeed on the page: %v\n%s", err, p.out)
	}
	shot(t, b, "retried")
	if !strings.Contains(loc, "/runs/"+name+"-r2") || !strings.Contains(notice, name+"-r2") {
		t.Errorf("after Retry: at %s, notice %q", loc, notice)
	}
	attempts, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.getElementById("live").innerText`))
	for _, want := range []string{"retry by run page", "attempt 2", "Attempts of this push", "attempt 1"} {
		if !strings.Contains(attempts, want) {
			t.Errorf("the retried run's page lacks %q", want)
		}
	}
	// A succeeded run offers Rerun, not Retry.
	retryButtons, _ := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/retry"]').length`))
	if retryButtons != 0 {
		t.Error("a succeeded run offers Retry")
	}
}

// waitJS polls a script until it is true.
func waitJS(ctx context.Context, expr string) error {
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error %v)", expr, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
