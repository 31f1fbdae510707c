package approval

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSignerVerify(t *testing.T) {
	s, err := NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another key, 32 bytes long......"))
	const id = "0123456789abcdef0123456789abcdef"
	exp := testNow.Add(72 * time.Hour)
	good := Link{ID: id, Approver: "ops@example.com", Expires: exp}
	q := func(l Link, edit func(url.Values)) url.Values {
		v := s.Query(l)
		if edit != nil {
			edit(v)
		}
		return v
	}
	tests := []struct {
		name string
		id   string
		q    url.Values
		now  time.Time
		want error
	}{
		{"valid", id, q(good, nil), testNow, nil},
		{"valid one second before expiry", id, q(good, nil), exp.Add(-time.Second), nil},
		{"expired at expiry", id, q(good, nil), exp, ErrExpired},
		{"expired later", id, q(good, nil), exp.Add(time.Hour), ErrExpired},
		{"other id", "fedcba9876543210fedcba9876543210", q(good, nil), testNow, ErrForged},
		{"id not hex", "0123456789abcdef0123456789abcdeG", q(good, nil), testNow, ErrForged},
		{"id too short", id[:31], q(good, nil), testNow, ErrForged},
		{"approver changed", id, q(good, func(v url.Values) { v.Set("a", "mallory@example.com") }), testNow, ErrForged},
		{"approver case changed", id, q(good, func(v url.Values) { v.Set("a", "OPS@example.com") }), testNow, ErrForged},
		{"expiry extended", id, q(good, func(v url.Values) { v.Set("e", "9999999999") }), testNow, ErrForged},
		{"expiry with leading zero", id, q(good, func(v url.Values) { v.Set("e", "0"+v.Get("e")) }), testNow, ErrForged},
		{"signature flipped", id, q(good, func(v url.Values) {
			b := []byte(v.Get("s"))
			b[0] ^= 1
			v.Set("s", string(b))
		}), testNow, ErrForged},
		{"signature truncated", id, q(good, func(v url.Values) { v.Set("s", v.Get("s")[:20]) }), testNow, ErrForged},
		{"signature not base64", id, q(good, func(v url.Values) { v.Set("s", "!!!") }), testNow, ErrForged},
		{"signature padded", id, q(good, func(v url.Values) { v.Set("s", v.Get("s")+"=") }), testNow, ErrForged},
		{"no signature", id, q(good, func(v url.Values) { v.Del("s") }), testNow, ErrForged},
		{"no approver", id, q(good, func(v url.Values) { v.Del("a") }), testNow, ErrForged},
		{"no expiry", id, q(good, func(v url.Values) { v.Del("e") }), testNow, ErrForged},
		{"approver twice", id, q(good, func(v url.Values) { v.Add("a", "ops@example.com") }), testNow, ErrForged},
		{"signed by another key", id, other.Query(good), testNow, ErrForged},
		{"expired and forged", id, q(good, func(v url.Values) { v.Set("a", "x@example.com") }), exp.Add(time.Hour), ErrForged},
		{"empty query", id, url.Values{}, testNow, ErrForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := s.Verify(tt.id, tt.q, tt.now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				if diff := cmp.Diff(good, l); diff != "" {
					t.Errorf("link (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSignerURL(t *testing.T) {
	s, _ := NewSigner(testKey)
	l := Link{ID: "0123456789abcdef0123456789abcdef", Approver: "o'p s+1@example.com", Expires: time.Unix(1764234000, 0)}
	for _, base := range []string{"https://x.example.com/prod", "https://x.example.com/prod/"} {
		raw := s.URL(base, l)
		if !strings.HasPrefix(raw, "https://x.example.com/prod/approvals/0123456789abcdef0123456789abcdef?") {
			t.Fatalf("URL = %s", raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		id, ok := idFromPath(u.Path)
		if !ok {
			t.Fatalf("idFromPath(%q) failed", u.Path)
		}
		got, err := s.Verify(id, u.Query(), time.Unix(1764230000, 0))
		if err != nil {
			t.Fatalf("Verify(URL) = %v", err)
		}
		if diff := cmp.Diff(Link{ID: l.ID, Approver: l.Approver, Expires: l.Expires.UTC()}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

func TestFormToken(t *testing.T) {
	s, _ := NewSigner(testKey)
	l := Link{ID: "0123456789abcdef0123456789abcdef", Approver: "ops@example.com", Expires: testNow}
	tok := s.FormToken(l)
	if tok == s.Query(l).Get("s") {
		t.Fatal("form token equals the link signature")
	}
	if !s.CheckFormToken(l, tok) {
		t.Fatal("own form token refused")
	}
	l2 := l
	l2.Approver = "lead@example.com"
	for name, bad := range map[string]string{"empty": "", "other link": s.FormToken(l2), "garbage": "%%%"} {
		if s.CheckFormToken(l, bad) {
			t.Errorf("%s form token accepted", name)
		}
	}
}

func TestNewSignerShortKey(t *testing.T) {
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := NewSigner(testKey)
	l := Link{ID: "0123456789abcdef0123456789abcdef", Approver: "ops@example.com", Expires: testNow.Add(time.Hour)}
	q := s.Query(l)
	for b.Loop() {
		if _, err := s.Verify(l.ID, q, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
