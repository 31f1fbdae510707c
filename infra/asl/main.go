package main

import (
	"fmt"
	"io"
	"os"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/statemachine"
)

func main() {
	os.Exit(run(os.Stdout, os.Stderr, config.Load))
}

func run(stdout, stderr io.Writer, load func() (*config.Config, error)) int {
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "asl: %v\n", err)
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "asl: warning: %s\n", w)
	}
	def, err := statemachine.Generate(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "asl: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(def); err != nil {
		fmt.Fprintf(stderr, "asl: write: %v\n", err)
		return 1
	}
	return 0
}
