package connectjwt

import (
	"net/url"
	"testing"
	"time"
)

// go test -run '^$' -bench . -benchmem ./internal/connectjwt
func BenchmarkSign(b *testing.B) {
	s := NewSigner("client-1", []byte("s3cret"), "/").WithClock(fixed(t0))
	u, _ := url.Parse("https://app.example.com/hook?user_id=abc&user_key=abc")
	for b.Loop() {
		if _, err := s.Sign("POST", u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := NewSigner("client-1", []byte("s3cret"), "/").WithClock(fixed(t0))
	u, _ := url.Parse("https://app.example.com/hook?user_id=abc&user_key=abc")
	tok, err := s.Sign("POST", u)
	if err != nil {
		b.Fatal(err)
	}
	opts := verifyOpts("POST", u.String(), "/", t0.Add(time.Second))
	for b.Loop() {
		if _, err := Verify(tok, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyDelivery verifies a token as jwh listen does for each
// delivery: a POST to the listener's path, no query.
func BenchmarkVerifyDelivery(b *testing.B) {
	s := NewSigner("client-1", []byte("s3cret"), "/").WithClock(fixed(t0))
	u, _ := url.Parse("/")
	tok, err := s.Sign("POST", u)
	if err != nil {
		b.Fatal(err)
	}
	opts := verifyOpts("POST", "/", "/", t0.Add(time.Second))
	for b.Loop() {
		if _, err := Verify(tok, opts); err != nil {
			b.Fatal(err)
		}
	}
}
