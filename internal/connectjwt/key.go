package connectjwt

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"slices"
	"sync"
)

// A Key is a shared secret made ready to verify many tokens with: HMAC's
// key schedule (hashing the padded secret twice, as much work as hashing a
// token) is done once, and the states it leaves are reused from token to
// token. Make one per secret with NewKey and keep it. A Key is safe for
// concurrent use, and formats without its secret.
type Key struct {
	secret []byte
	macs   *sync.Pool // of HMAC-SHA256 hashes keyed with secret; nil: one per token
}

// NewKey returns a Key for secret, which it copies.
func NewKey(secret []byte) *Key {
	k := &Key{secret: slices.Clone(secret), macs: new(sync.Pool)}
	k.macs.New = func() any { return hmac.New(sha256.New, k.secret) }
	return k
}

// String describes k without its secret.
func (k *Key) String() string { return "connectjwt.Key{[redacted]}" }

// GoString is String, so that %#v does not print the secret either.
func (k *Key) GoString() string { return k.String() }

// validHS256 reports whether sig is the HS256 signature of input with k.
func (k *Key) validHS256(input, sig []byte) bool {
	var mac hash.Hash
	if k.macs != nil {
		mac = k.macs.Get().(hash.Hash)
		mac.Reset() // back to the state right after the key schedule
		defer k.macs.Put(mac)
	} else {
		mac = hmac.New(sha256.New, k.secret)
	}
	mac.Write(input)
	var sum [sha256.Size]byte
	return hmac.Equal(sig, mac.Sum(sum[:0]))
}
