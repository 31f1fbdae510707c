package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pushline/pushline/shared/config"
)

// Foreground runs the local stack as make local does, with its settings
// from the environment (the README's "Local stack" table), until ctx ends
// (SIGINT/SIGTERM); then it stops gracefully for PUSHLINE_STOP_TIMEOUT or
// until a second signal. infra/local and `pushline local` run it.
func Foreground(ctx context.Context, out io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(os.Stderr, "pushline local: warning:", w)
	}
	grace, err := time.ParseDuration(envOr("PUSHLINE_STOP_TIMEOUT", "2m"))
	if err != nil {
		return fmt.Errorf("PUSHLINE_STOP_TIMEOUT: %w", err)
	}
	s, err := Start(ctx, Options{
		DataDir:        envOr("PUSHLINE_DATA_DIR", ".pushline"),
		HTTPAddr:       envOr("PUSHLINE_HTTP_ADDR", "127.0.0.1:8080"),
		AWSAddr:        envOr("PUSHLINE_AWS_ADDR", "127.0.0.1:4566"),
		WebhookSecret:  os.Getenv("PUSHLINE_WEBHOOK_SECRET"),
		SMTPAddr:       os.Getenv("PUSHLINE_SMTP_ADDR"),
		ProviderTokens: os.Getenv("PUSHLINE_PROVIDER_TOKENS"),
		PublicURL:      os.Getenv("PUSHLINE_PUBLIC_URL"),
		Config:         cfg,
		Out:            out,
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	s.PrintReady(out)
	// Listen for the second signal before the first one ends ctx.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	<-ctx.Done()
	select { // the signal that ended ctx reaches again too, maybe a moment later
	case <-again:
	case <-time.After(200 * time.Millisecond):
	}
	fmt.Fprintf(out, "pushline local: stopping (running steps have up to %s to finish; Ctrl-C again stops them now)\n", grace)
	closeCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	go func() {
		select {
		case <-again:
			cancel()
		case <-closeCtx.Done():
		}
	}()
	if err := s.Close(closeCtx); err != nil {
		return err
	}
	fmt.Fprintln(out, "pushline local: stopped; a restart with the same data dir carries on")
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
