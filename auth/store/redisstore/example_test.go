package redisstore_test

import (
	"context"
	"log"
	"time"

	"github.com/signet-auth/signet/auth/store/redisstore"
)

func ExampleOpen() {
	ctx := context.Background()
	s, err := redisstore.Open(ctx, "redis-sentinel://sentinel-a,sentinel-b,sentinel-c/0?master=mymaster",
		redisstore.Options{Prefix: "myapp:", Timeout: 500 * time.Millisecond})
	if err != nil {
		log.Fatal(err) // Redis unreachable: a clear error after a few seconds at most
	}
	defer s.Close()
}
