package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// BenchmarkVerify100k verifies a 100,000-entry chain on SQLite.
//
//	go test ./internal/audit/ -run '^$' -bench Verify100k -benchtime 3x
func BenchmarkVerify100k(b *testing.B) {
	const n = 100_000
	db := storetest.SQLite(b)
	l := New(testKey)
	ctx := actorCtx()
	start := time.Now()
	for batch := 0; batch < n; batch += 1000 {
		err := db.Update(ctx, func(tx *store.Tx) error {
			for i := batch; i < batch+1000; i++ {
				if err := l.Record(ctx, tx, Entry{OrgID: "0b6f8a57-43a8-4b8e-8d4f-2c6a7f1e9b22", Action: "org.edit", ObjectType: "organization",
					ObjectID: fmt.Sprint(i), Details: map[string]any{"name": "Énergie du Luxembourg", "contacts": []string{"a@b.lu", "c@d.lu"}, "n": i}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if batch%10000 == 0 {
			if _, err := l.Checkpoint(context.Background(), db); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("appended %d entries in %v (%.0f/s)", n, time.Since(start), n/time.Since(start).Seconds())
	b.ResetTimer()
	for b.Loop() {
		rep, err := l.Verify(context.Background(), db)
		if err != nil || !rep.OK || rep.Entries != n {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/entry")
}
