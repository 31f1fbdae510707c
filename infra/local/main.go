// Command local runs the pushline local stack in the foreground until
// SIGINT or SIGTERM (make local). Its settings come from the environment;
// see the README's "Local stack" section.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pushline/pushline/infra/local/stack"
	"github.com/pushline/pushline/shared/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pushline local:", err)
		os.Exit(1)
	}
}

func run() error {
	// registered for the whole run: a signal must never find no channel
	// (its default action would kill the stack mid-stop)
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	st := watch(sigs, time.Second, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-st.Stopping()
		cancel()
	}()
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	grace, err := time.ParseDuration(env("PUSHLINE_STOP_TIMEOUT", "2m"))
	if err != nil {
		return fmt.Errorf("PUSHLINE_STOP_TIMEOUT: %w", err)
	}
	s, err := stack.Start(ctx, stack.Options{
		DataDir:       env("PUSHLINE_DATA_DIR", ".pushline"),
		HTTPAddr:      env("PUSHLINE_HTTP_ADDR", "127.0.0.1:8080"),
		AWSAddr:       env("PUSHLINE_AWS_ADDR", "127.0.0.1:4566"),
		WebhookSecret: os.Getenv("PUSHLINE_WEBHOOK_SECRET"),
		SMTPAddr:      os.Getenv("PUSHLINE_SMTP_ADDR"),
		Config:        cfg,
		Out:           os.Stdout,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	s.PrintReady(os.Stdout)
	<-st.Stopping()
	fmt.Printf("pushline local: stopping (running steps have up to %s to finish; Ctrl-C again stops them now)\n", grace)
	closeCtx, stop := context.WithTimeout(context.Background(), grace)
	defer stop()
	go func() {
		select {
		case <-st.Now():
			stop()
		case <-closeCtx.Done():
		}
	}()
	if err := s.Close(closeCtx); err != nil {
		return err
	}
	fmt.Println("pushline local: stopped; a restart with the same data dir carries on")
	return nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
