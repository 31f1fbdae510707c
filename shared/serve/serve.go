package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// DefaultAddr is where HTTP serves when PUSHLINE_HTTP_ADDR is not set.
const DefaultAddr = "127.0.0.1:8080"

// ShutdownTimeout bounds the graceful stop: requests in flight get this
// long to finish.
const ShutdownTimeout = 20 * time.Second

// UnderLambda reports whether the process runs in the Lambda runtime.
func UnderLambda() bool { return os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" }

// Logging installs and returns the default logger: JSON on stderr under
// Lambda (CloudWatch), text otherwise. PUSHLINE_LOG_LEVEL=debug lowers the
// level.
func Logging() *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if os.Getenv("PUSHLINE_LOG_LEVEL") == "debug" {
		opts.Level = slog.LevelDebug
	}
	var h slog.Handler
	if UnderLambda() {
		h = slog.NewJSONHandler(os.Stderr, opts)
	} else {
		h = slog.NewTextHandler(os.Stderr, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}

// Check is a main's start-up check: when err is not nil it logs it as
// what and exits with status 1.
func Check(what string, err error) {
	if err != nil {
		slog.Error(what, "err", err)
		os.Exit(1)
	}
}

// Healthz answers "ok" (GET /healthz).
func Healthz(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }

// HTTP runs h: under Lambda as an API Gateway REST API (v1) proxy
// handler, otherwise on PUSHLINE_HTTP_ADDR (default DefaultAddr) until
// SIGINT or SIGTERM. It returns only when the local server has stopped;
// a serve error exits the process with status 1.
func HTTP(h http.Handler) {
	Logging()
	if UnderLambda() {
		lambda.Start(APIGateway(h))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	addr := os.Getenv("PUSHLINE_HTTP_ADDR")
	if addr == "" {
		addr = DefaultAddr
	}
	if err := ListenAndServe(ctx, addr, h); err != nil {
		slog.Error("serve", "addr", addr, "err", err)
		stop()
		os.Exit(1)
	}
}

// APIGateway adapts h to a Lambda handler of API Gateway REST API (v1)
// proxy events.
func APIGateway(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpadapter.New(h).ProxyWithContext
}

// ListenAndServe serves h on addr until ctx is done, then stops
// gracefully (ShutdownTimeout). A clean stop returns nil.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return Serve(ctx, ln, h)
}

// Serve is ListenAndServe on an open listener (tests pass 127.0.0.1:0).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	slog.Info("serving", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	slog.Info("stopped", "addr", ln.Addr().String())
	return nil
}
