package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Outbox writes each message as an .eml file into Dir (created if
// missing): written to a temporary file, then renamed, so a reader never
// sees half a message. Names sort by time:
// 20261127T084000.000000000Z-<hash>.eml.
type Outbox struct {
	Dir string
	// Now defaults to time.Now.
	Now func() time.Time
}

// Send writes m to the outbox.
func (o Outbox) Send(_ context.Context, m Message) error {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now().UTC()
	if m.Date.IsZero() {
		m.Date = t
	}
	raw, err := Build(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	sum := sha256.Sum256(raw)
	name := t.Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(sum[:6]) + ".eml"
	f, err := os.CreateTemp(o.Dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(raw)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(o.Dir, name))
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("outbox write %s: %w", name, werr)
	}
	return nil
}
