package listen

import (
	"fmt"
	"testing"
	"time"
)

func TestSeenCacheBounded(t *testing.T) {
	c := newSeenCache(100)
	t0 := time.Unix(1000, 0)
	key := func(i int) dedupKey { return makeDedupKey("ck", fmt.Sprint(i)) }
	for i := range 1000 {
		if _, dup := c.add(key(i), t0.Add(time.Duration(i)*time.Second)); dup {
			t.Fatalf("%d is new but was reported as a duplicate", i)
		}
		if n := c.len(); n > 100 {
			t.Fatalf("after %d adds the cache holds %d keys, more than its size 100", i+1, n)
		}
	}
	// The last 100 are remembered, the others forgotten.
	for i := 900; i < 1000; i++ {
		first, dup := c.add(key(i), t0.Add(time.Hour))
		if !dup || !first.Equal(t0.Add(time.Duration(i)*time.Second)) {
			t.Errorf("%d: dup=%v first=%s", i, dup, first)
		}
	}
	if _, dup := c.add(key(899), t0); dup {
		t.Error("899 should have been forgotten")
	}
}

func TestSeenCacheRemove(t *testing.T) {
	c := newSeenCache(3)
	now := time.Unix(0, 0)
	a, b, d, e := makeDedupKey("", "a"), makeDedupKey("", "b"), makeDedupKey("", "d"), makeDedupKey("", "e")
	c.add(a, now)
	c.remove(a)
	if _, dup := c.add(b, now); dup {
		t.Fatal("b is new")
	}
	// a again, now in slot 2; slot 0 still names a, and evicting slot 0
	// must not forget the new a.
	if _, dup := c.add(a, now); dup {
		t.Fatal("a was removed, so it is new")
	}
	c.add(d, now) // evicts slot 0 (the old a)
	if _, dup := c.add(a, now); !dup {
		t.Error("a was forgotten when its old slot was reused")
	}
	c.add(e, now) // evicts b
	if _, dup := c.add(b, now); dup {
		t.Error("b should have been evicted")
	}
	if makeDedupKey("x", "y") == makeDedupKey("xy", "") {
		t.Error("issuer and identifier are not separated in the key")
	}
}

// TestSeenCacheStaysBounded adds many more identifiers than the cache
// holds, removing some on the way: the map never grows past the size.
func TestSeenCacheStaysBounded(t *testing.T) {
	const size = 1000
	c := newSeenCache(size)
	now := time.Unix(0, 0)
	for i := range 200 * size {
		c.add(makeDedupKey("ck", fmt.Sprint(i)), now)
		if i%1000 == 0 {
			c.remove(makeDedupKey("ck", fmt.Sprint(i-500)))
		}
	}
	if n := c.len(); n > size {
		t.Errorf("the map holds %d keys, more than the size %d", n, size)
	}
}
