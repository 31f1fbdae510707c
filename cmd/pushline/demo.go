package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func runDemo(cmd *cobra.Command) error {
	return errors.New("demo: not wired yet")
}
