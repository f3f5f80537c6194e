package store

import (
	"context"
	"sync/atomic"
)

// QueryCounter counts the SQL statements run through the store with a
// context that carries it. Tests use it to prove that a page costs a fixed
// number of queries whatever its size (no N+1).
type QueryCounter struct{ n atomic.Int64 }

// N is the number of statements counted so far.
func (c *QueryCounter) N() int { return int(c.n.Load()) }

type counterKey struct{}

// WithQueryCounter returns ctx counting the statements run with it.
func WithQueryCounter(ctx context.Context) (context.Context, *QueryCounter) {
	c := &QueryCounter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

func count(ctx context.Context) {
	if c, ok := ctx.Value(counterKey{}).(*QueryCounter); ok {
		c.n.Add(1)
	}
}
